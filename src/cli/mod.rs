//! The `amuse` command line: the viewer by default, and headless subcommands.
//!
//! Exit codes: 0 success, 1 an error with a message (bad input, failed run),
//! 2 usage error (clap), 3 the installation is incomplete (models missing or corrupt).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::device;

pub mod ablate;
pub mod adapt_text;
pub mod analyze;
pub mod bench;
pub mod bench_flops;
pub mod bench_lime;
pub mod bench_speakers;
pub mod bench_train;
pub mod bench_transcribe;
pub mod cache;
pub mod eval;
pub mod explain;
pub mod features;
pub mod preflight;
pub mod train;
pub mod transcribe;

/// Exit code when model files are missing or corrupt.
pub const EXIT_SETUP: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "amuse",
    version,
    about = "Speaker emotion recognition in group conversations, with explanations"
)]
pub struct Cli {
    /// LibTorch intra-op CPU threads (default: $AMUSE_THREADS, else half the cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Stay on the CPU even when CUDA is available.
    #[arg(long, global = true)]
    pub cpu: bool,
    /// The models folder (default: $AMUSE_MODELS, else models/ beside the executable, else
    /// $XDG_DATA_HOME/amuse/models, else models/ of the source tree).
    #[arg(long, global = true, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// The AMuSE checkpoint folder (default: $AMUSE_CHECKPOINT, else models/amuse;
    /// models/amuse-text is the text-and-context model).
    #[arg(long, global = true, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the viewer, optionally on a video (the default when no subcommand is given).
    View {
        /// A dialogue video; its transcript (.csv/.srt/.vtt of the same name) is found beside it.
        file: Option<PathBuf>,
        /// Select this utterance (1-based) when the analysis is done.
        #[arg(long)]
        utterance: Option<usize>,
        /// Labels for corrections (keys 1…n) in new sidecars: MELD's seven or IEMOCAP's six.
        #[arg(long, value_enum, default_value_t = Labels::Meld)]
        labels: Labels,
    },
    /// Show versions, the device and the state of every model file.
    Doctor,
    /// Show what the feature and corpus caches hold; prune the entries no longer used.
    Cache(cache::CacheArgs),
    /// Extract per-utterance features (faces, audio, text) of a video or a MELD.Raw folder.
    Features {
        /// A video (its transcript is found beside it) or a MELD.Raw split folder.
        input: PathBuf,
        /// The transcript (.srt, .vtt, .csv) when it is not beside the video.
        #[arg(long)]
        transcript: Option<PathBuf>,
        /// Feature cache folder (default: ~/.cache/amuse/features).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Analyse a video, a folder of videos or a MELD.Raw folder headless: one JSON per
    /// dialogue and summary.csv in --out (resumable; exit code 1 when any input failed).
    Analyze(analyze::AnalyzeArgs),
    /// Join the summaries the shards of `amuse analyze --shard I/N` wrote into one folder's
    /// summary.csv (every dialogue, and the pooled line over all of them).
    MergeSummaries {
        /// The output folder the shards wrote to.
        dir: PathBuf,
    },
    /// Fine-tune the text encoder's top layers for emotion (low-rank adapters, MELD train).
    AdaptText(adapt_text::AdaptTextArgs),
    /// Train the AMuSE model on the real corpora (MELD transcripts, RAVDESS speech).
    Train(train::TrainArgs),
    /// Evaluate a checkpoint: accuracy, weighted F1, per-class F1, confusion matrix.
    Eval(eval::EvalArgs),
    /// Ablations in the shape of Tables III–V: dev weighted F1 per fusion mode, focal γ or
    /// number of MAN layers.
    Ablate(ablate::AblateArgs),
    /// Explain one utterance's prediction by its words (LIME on the real model).
    Explain {
        /// The video (its transcript beside it).
        video: PathBuf,
        /// Utterance number (1-based).
        #[arg(long)]
        utterance: usize,
        /// LIME samples (the reference default is 5000); by default the viewer's: 2000 for
        /// text, 300 for face, 100 for audio (one Whisper pass per distinct pattern).
        #[arg(long)]
        samples: Option<usize>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Write the transcript with green/red highlights as HTML.
        #[arg(long)]
        html: Option<PathBuf>,
        /// What to perturb: the words, the audio, the facial regions of the speaker's face, or
        /// the back frame's superpixels.
        #[arg(long, value_enum, default_value_t = explain::Evidence::Text)]
        modality: explain::Evidence,
        /// With --modality face or back: write the face crop (back frame) tinted green/red
        /// as PNG.
        #[arg(long)]
        png: Option<PathBuf>,
        /// With --modality face or back: explain the fused prediction (default when the
        /// checkpoint reads faces), the visual Central head, or the expression encoder's
        /// own reading (default for a checkpoint that does not read faces).
        #[arg(long, value_enum)]
        target: Option<crate::analysis::explain_face::Target>,
    },
    /// Print speed figures (default: `pipeline` on the demo dialogue).
    Bench {
        #[command(subcommand)]
        what: Option<bench::Bench>,
    },
    /// Transcribe a video without subtitles (Whisper tiny.en) and print the utterances.
    Transcribe {
        /// The video (or audio file).
        video: PathBuf,
        /// Also write `<video>.srt` beside it.
        #[arg(long)]
        srt: bool,
        /// Replace an existing `<video>.srt`.
        #[arg(long)]
        force: bool,
    },
}

/// The built-in label sets of the annotator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Labels {
    /// MELD's seven emotions.
    Meld,
    /// IEMOCAP's six categories.
    Iemocap,
}

/// Parse the command line, run, and map errors to exit codes with a message on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("AMUSE_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .try_init();
    crate::paths::set(crate::paths::resolve(cli.models.as_deref(), cli.checkpoint.as_deref()));
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            if err.downcast_ref::<crate::manifest::ModelError>().is_some() {
                ExitCode::from(EXIT_SETUP)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let threads = cli.threads.unwrap_or_else(device::threads_from_env);
    match cli.command.unwrap_or(Command::View {
        file: None,
        utterance: None,
        labels: Labels::Meld,
    }) {
        Command::Doctor => {
            let info = device::init(threads, cli.cpu);
            let report = crate::doctor::inspect(info);
            print!("{}", crate::doctor::render(&report));
            Ok(if report.healthy() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_SETUP)
            })
        }
        Command::Cache(args) => {
            cache::run(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Features { input, transcript, out } => {
            preflight::media_input(&input)?;
            let info = device::init(threads, cli.cpu);
            let store = crate::manifest::ModelStore::open_default()?;
            // The default checkpoint's text adapter, so these features are the ones
            // `amuse analyze` and the viewer use (and share their cache entries).
            let dir = crate::model::checkpoint::default_dir();
            let adapter = crate::model::checkpoint::text_adapter(&dir, &crate::model::checkpoint::read_info(&dir)?)?;
            let enc = crate::features::extract::Encoders::load(&store, info.device(), adapter.as_ref())?;
            features::run(&store, &enc, &input, transcript.as_deref(), out.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::MergeSummaries { dir } => {
            let (dialogues, shards) = crate::export::summary_table::merge(&dir)?;
            println!(
                "merged {dialogues} dialogues from {shards} shard summaries into {}",
                dir.join("summary.csv").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Analyze(args) => {
            let info = device::init(threads, cli.cpu);
            preflight::media_input(&args.input)?;
            let analyzer = crate::analysis::Analyzer::load(info.device())?;
            analyze::run(&analyzer, &args)
        }
        Command::AdaptText(args) => {
            let info = device::init(threads, cli.cpu);
            adapt_text::run(&args, info.device())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Train(args) => {
            let info = device::init(threads, cli.cpu);
            train::train(&args, info.device())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval(args) => {
            let info = device::init(threads, cli.cpu);
            eval::eval(&args, info.device())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ablate(args) => {
            let info = device::init(threads, cli.cpu);
            ablate::run(&args, info.device())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain {
            video,
            utterance,
            samples,
            seed,
            html,
            modality,
            png,
            target,
        } => {
            let samples = crate::lime::check_samples(samples.unwrap_or(modality.default_samples()))
                .map_err(anyhow::Error::msg)?;
            preflight::media_input(&video)?;
            let info = device::init(threads, cli.cpu);
            let analyzer = crate::analysis::Analyzer::load(info.device())?;
            match modality {
                explain::Evidence::Text => explain::run(&analyzer, &video, utterance, samples, seed, html.as_deref())?,
                explain::Evidence::Face => {
                    explain::face(&analyzer, &video, utterance, target, samples, seed, png.as_deref())?
                }
                explain::Evidence::Back => {
                    explain::back(&analyzer, &video, utterance, target, samples, seed, png.as_deref())?
                }
                explain::Evidence::Audio => explain::audio(&analyzer, &video, utterance, samples, seed)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { what } => {
            let info = device::init(threads, cli.cpu);
            println!("device: {} ({})", info.name, info.cuda_note);
            bench::run(what, info.device())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Transcribe { video, srt, force } => {
            let info = device::init(threads, cli.cpu);
            transcribe::run(&video, srt, force, info.device())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::View {
            file,
            utterance,
            labels,
        } => {
            let utterance = utterance.map(|u| u.saturating_sub(1));
            crate::app::run(crate::app::Options {
                file,
                threads,
                force_cpu: cli.cpu,
                utterance,
                labels: Some(match labels {
                    Labels::Meld => amuse_formats::annotations::LabelSet::meld(),
                    Labels::Iemocap => amuse_formats::annotations::LabelSet::iemocap(),
                }),
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
