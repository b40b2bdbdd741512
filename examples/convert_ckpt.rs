//! One-off: re-save a checkpoint whose weights were written in LibTorch's .ot format under
//! a .safetensors name (before the atomic-write fix).
fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("dir"));
    let info: amuse::model::checkpoint::CheckpointInfo =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let _m = amuse::model::amuse::Amuse::new(&vs.root(), info.config.clone());
    let ot = dir.join("weights.ot");
    std::fs::copy(dir.join("amuse.safetensors"), &ot).unwrap();
    vs.load(&ot).unwrap();
    std::fs::remove_file(&ot).unwrap();
    amuse::model::checkpoint::save(&dir, &vs, &info).unwrap();
    println!("converted {}", dir.display());
}
