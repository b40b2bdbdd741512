//! Who speaks when, from voices alone (Section III-D needs speakers for the speaker context;
//! transcripts without names and automatic transcriptions have none).
//!
//! Utterances are grouped by their voice embeddings ([`super::voice`], L2-normalised
//! Resemblyzer vectors) with average-linkage agglomerative clustering on cosine
//! similarity, cut at a similarity threshold: no number of speakers has to be known in
//! advance, which is what a user opening a meeting file has. The dendrogram is built with
//! the nearest-neighbour-chain algorithm (O(n²) time and memory, so a 2-hour episode with
//! thousands of utterances stays fast) and cut by applying every merge at or above the
//! threshold; average linkage is reducible, so the cut equals the greedy one.
//!
//! "Follow this voice" ([`find`]) ranks every utterance by its similarity to one the user
//! picked.

/// Default cut: same-speaker utterances score above it, different speakers below.
/// Chosen on RAVDESS actors 1–16 (see `amuse bench speakers` and the README);
/// espeak voices: same ≈ 0.82, different ≈ 0.62.
pub const DEFAULT_THRESHOLD: f32 = 0.70;

/// Cosine similarity (the vectors need not be normalised; zero vectors score 0).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        ab += f64::from(*x) * f64::from(*y);
        aa += f64::from(*x) * f64::from(*x);
        bb += f64::from(*y) * f64::from(*y);
    }
    if aa <= 0.0 || bb <= 0.0 {
        return 0.0;
    }
    (ab / (aa.sqrt() * bb.sqrt())) as f32
}

/// One merge of the dendrogram: clusters represented by `a` and `b` joined at `similarity`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Merge {
    a: usize,
    b: usize,
    similarity: f32,
}

/// Cluster labels (0, 1, …, in order of first appearance) for each embedding: two
/// utterances share a label when their groups' average similarity reaches `threshold`.
pub fn cluster(embeddings: &[Vec<f32>], threshold: f32) -> Vec<usize> {
    let n = embeddings.len();
    let merges = dendrogram(embeddings);
    let mut parent: Vec<usize> = (0..n).collect();
    for m in merges.iter().filter(|m| m.similarity >= threshold) {
        let (ra, rb) = (root(&mut parent, m.a), root(&mut parent, m.b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut names: Vec<Option<usize>> = vec![None; n];
    let mut next = 0;
    (0..n)
        .map(|i| {
            let r = root(&mut parent, i);
            *names[r].get_or_insert_with(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Average-linkage merges by the nearest-neighbour chain.
fn dendrogram(embeddings: &[Vec<f32>]) -> Vec<Merge> {
    let n = embeddings.len();
    let mut sim = vec![0f32; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let s = cosine(&embeddings[i], &embeddings[j]);
            sim[i * n + j] = s;
            sim[j * n + i] = s;
        }
    }
    let mut size = vec![1usize; n];
    let mut active = vec![true; n];
    let mut merges = Vec::with_capacity(n.saturating_sub(1));
    let mut chain: Vec<usize> = Vec::new();
    while merges.len() + 1 < n {
        if chain.is_empty() {
            chain.push(active.iter().position(|&a| a).unwrap_or(0));
        }
        let top = chain[chain.len() - 1];
        let prev = chain.len().checked_sub(2).map(|k| chain[k]);
        // Nearest active neighbour of `top`; ties go to the previous chain element so the
        // chain always ends in a reciprocal pair.
        let mut best = prev;
        let mut best_sim = prev.map_or(f32::NEG_INFINITY, |p| sim[top * n + p]);
        for k in (0..n).filter(|&k| active[k] && k != top) {
            if sim[top * n + k] > best_sim {
                best = Some(k);
                best_sim = sim[top * n + k];
            }
        }
        let Some(next) = best else { break };
        if Some(next) != prev {
            chain.push(next);
            continue;
        }
        chain.truncate(chain.len() - 2);
        let (a, b) = (top.min(next), top.max(next));
        merges.push(Merge {
            a,
            b,
            similarity: best_sim,
        });
        // Lance–Williams update for average linkage; `a` now stands for the union.
        let (na, nb) = (size[a] as f32, size[b] as f32);
        for k in (0..n).filter(|&k| active[k] && k != a && k != b) {
            let s = (na * sim[a * n + k] + nb * sim[b * n + k]) / (na + nb);
            sim[a * n + k] = s;
            sim[k * n + a] = s;
        }
        size[a] += size[b];
        active[b] = false;
    }
    merges
}

/// Similarity of every utterance's voice to utterance `target`'s ("follow this voice"),
/// in utterance order; `None` for utterances without audio.
pub fn find(voices: &[Option<Vec<f32>>], target: usize) -> Vec<Option<f32>> {
    let Some(Some(t)) = voices.get(target) else {
        return vec![None; voices.len()];
    };
    voices.iter().map(|v| v.as_ref().map(|v| cosine(t, v))).collect()
}

/// Speaker names for utterances without one, from their voices: "Voice 1", "Voice 2", …
/// Utterances without audio stay unnamed. Returns `None` when no voice is available.
pub fn name_by_voice(voices: &[Option<Vec<f32>>], threshold: f32) -> Option<Vec<Option<String>>> {
    let (idx, emb): (Vec<usize>, Vec<Vec<f32>>) = voices
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.clone().map(|v| (i, v)))
        .unzip();
    if emb.is_empty() {
        return None;
    }
    let labels = cluster(&emb, threshold);
    let mut names = vec![None; voices.len()];
    for (i, l) in idx.into_iter().zip(labels) {
        names[i] = Some(format!("Voice {}", l + 1));
    }
    Some(names)
}

/// Adjusted Rand index of two labelings (1 = identical partitions, ≈ 0 = chance).
pub fn adjusted_rand(a: &[usize], b: &[usize]) -> f64 {
    let n = a.len();
    let (ka, kb) = (a.iter().max().map_or(0, |m| m + 1), b.iter().max().map_or(0, |m| m + 1));
    let mut table = vec![vec![0u64; kb]; ka];
    for (&x, &y) in a.iter().zip(b) {
        table[x][y] += 1;
    }
    let c2 = |x: u64| (x * x.saturating_sub(1) / 2) as f64;
    let sum_ij: f64 = table.iter().flatten().map(|&x| c2(x)).sum();
    let sum_a: f64 = table.iter().map(|r| c2(r.iter().sum())).sum();
    let sum_b: f64 = (0..kb).map(|j| c2(table.iter().map(|r| r[j]).sum())).sum();
    let expected = sum_a * sum_b / c2(n as u64).max(1.0);
    let max = (sum_a + sum_b) / 2.0;
    if (max - expected).abs() < 1e-12 {
        return 1.0;
    }
    (sum_ij - expected) / (max - expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points around `k` orthogonal directions with some spread.
    fn groups(sizes: &[usize], spread: f32) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut out = Vec::new();
        let mut truth = Vec::new();
        let mut seed = 7u32;
        let mut noise = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        // Interleave the groups, as speakers alternate in a dialogue.
        let max = sizes.iter().copied().max().unwrap_or(0);
        for i in 0..max {
            for (g, &s) in sizes.iter().enumerate() {
                if i < s {
                    let mut v: Vec<f32> = (0..16).map(|_| spread * noise()).collect();
                    v[g] += 1.0;
                    out.push(v);
                    truth.push(g);
                }
            }
        }
        (out, truth)
    }

    #[test]
    fn recovers_interleaved_speakers_in_order_of_appearance() {
        let (emb, truth) = groups(&[5, 3, 7], 0.5);
        assert_eq!(cluster(&emb, 0.5), truth);
    }

    #[test]
    fn threshold_controls_the_number_of_speakers() {
        let (emb, _) = groups(&[4, 4], 0.3);
        assert!(
            cluster(&emb, -1.0).iter().all(|&l| l == 0),
            "everything merges below any similarity"
        );
        let single = cluster(&emb, 1.01);
        assert_eq!(single, (0..emb.len()).collect::<Vec<_>>(), "nothing merges above 1");
        assert_eq!(cluster(&emb, 0.5).iter().max(), Some(&1));
    }

    #[test]
    fn matches_the_naive_greedy_average_linkage() {
        let (emb, _) = groups(&[6, 5, 4, 3], 1.2);
        for t in [0.0f32, 0.2, 0.4, 0.6] {
            assert_eq!(cluster(&emb, t), naive(&emb, t), "threshold {t}");
        }
    }

    /// O(n³) reference: repeatedly merge the most similar pair of groups.
    fn naive(emb: &[Vec<f32>], t: f32) -> Vec<usize> {
        let mut groups: Vec<Vec<usize>> = (0..emb.len()).map(|i| vec![i]).collect();
        loop {
            let mut best = (f32::NEG_INFINITY, 0, 0);
            for a in 0..groups.len() {
                for b in a + 1..groups.len() {
                    let mut s = 0f32;
                    for &i in &groups[a] {
                        for &j in &groups[b] {
                            s += cosine(&emb[i], &emb[j]);
                        }
                    }
                    s /= (groups[a].len() * groups[b].len()) as f32;
                    if s > best.0 {
                        best = (s, a, b);
                    }
                }
            }
            if groups.len() < 2 || best.0 < t {
                break;
            }
            let g = groups.remove(best.2);
            groups[best.1].extend(g);
        }
        let mut label = vec![0; emb.len()];
        for g in &groups {
            for &i in g {
                label[i] = *g.iter().min().unwrap_or(&i);
            }
        }
        let mut seen: Vec<usize> = Vec::new();
        label
            .iter()
            .map(|l| {
                seen.iter().position(|s| s == l).unwrap_or_else(|| {
                    seen.push(*l);
                    seen.len() - 1
                })
            })
            .collect()
    }

    #[test]
    fn find_ranks_the_same_voice_highest_and_skips_silent_utterances() {
        let voices = vec![Some(vec![1.0, 0.1]), None, Some(vec![0.0, 1.0]), Some(vec![0.9, 0.0])];
        let s = find(&voices, 0);
        assert!((s[0].unwrap() - 1.0).abs() < 1e-6);
        assert_eq!(s[1], None);
        assert!(s[3].unwrap() > 0.9 && s[2].unwrap() < 0.2);
        assert_eq!(find(&voices, 1), vec![None; 4]);
        let names = name_by_voice(&voices, 0.8).unwrap();
        assert_eq!(names[0].as_deref(), Some("Voice 1"));
        assert_eq!(names[1], None);
        assert_eq!(names[2].as_deref(), Some("Voice 2"));
        assert_eq!(names[3].as_deref(), Some("Voice 1"));
        assert!(name_by_voice(&[None, None], 0.5).is_none());
        assert!(cluster(&[], 0.5).is_empty());
    }

    #[test]
    fn adjusted_rand_is_one_for_equal_partitions_and_low_for_unrelated() {
        assert!((adjusted_rand(&[0, 0, 1, 1, 2], &[1, 1, 0, 0, 2]) - 1.0).abs() < 1e-12);
        assert!(adjusted_rand(&[0, 0, 0, 1, 1, 1], &[0, 1, 0, 1, 0, 1]) < 0.0);
        let partial = adjusted_rand(&[0, 0, 1, 1], &[0, 0, 0, 1]);
        assert!(partial > -0.5 && partial < 1.0);
    }
}
