//! Context assembly: scores candidates, keeps the few that matter within a token budget, and
//! renders them as JSON and markdown for a copilot's prompt.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

mod cl100k;

use crate::memory::{now_millis, Entry, Layer};
use crate::store::Hit;

/// Weights of the score's parts; they sum to 1 so a score reads as a share.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Weights {
    pub relevance: f32,
    pub importance: f32,
    pub recency: f32,
    pub frequency: f32,
    pub confidence: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            relevance: 0.55,
            importance: 0.2,
            recency: 0.1,
            frequency: 0.05,
            confidence: 0.1,
        }
    }
}

/// Tunables of assembly, settable through `initializationOptions` and the CLI.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AssembleSettings {
    pub weights: Weights,
    /// Candidates below this relevance are dropped when there is a query.
    pub min_relevance: f32,
    pub limit: usize,
    pub budget_tokens: usize,
    /// Days for recency to halve.
    pub recency_half_life_days: f32,
    /// Per-layer minimum relevance (`memory`, `procedure`, `episode`); `minRelevance` where
    /// a layer is not named.
    pub layer_min_relevance: std::collections::BTreeMap<Layer, f32>,
    /// How strongly an entry close in meaning to one already chosen is pushed down
    /// (maximal marginal relevance); 0 turns diversity off.
    pub diversity: f32,
}

impl AssembleSettings {
    pub fn min_relevance_for(&self, layer: Layer) -> f32 {
        self.layer_min_relevance
            .get(&layer)
            .copied()
            .unwrap_or(self.min_relevance)
    }
}

impl Default for AssembleSettings {
    fn default() -> Self {
        AssembleSettings {
            weights: Weights::default(),
            min_relevance: 0.15,
            limit: 15,
            budget_tokens: 1500,
            recency_half_life_days: 30.0,
            layer_min_relevance: Default::default(),
            diversity: 0.3,
        }
    }
}

/// Why an entry ranked where it did.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScoreParts {
    pub relevance: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bm25: Option<f32>,
    pub importance: f32,
    pub recency: f32,
    pub frequency: f32,
    pub confidence: f32,
    /// Added for entries that concern the file in hand (its language or directory).
    pub file_boost: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Scored {
    pub score: f32,
    pub parts: ScoreParts,
    pub entry: Entry,
}

/// The file a request is about, in workspace terms.
#[derive(Debug, Clone, Default)]
pub struct FileFocus {
    pub relative_path: String,
    pub language: Option<String>,
}

impl FileFocus {
    pub fn new(relative: &Path) -> FileFocus {
        FileFocus {
            relative_path: relative.to_string_lossy().replace('\\', "/"),
            language: crate::workspace::language_of(relative).map(str::to_string),
        }
    }

    /// Entries that name this very file: a procedure triggered by editing it, or a group of
    /// files that change with it.
    pub fn is_bound_to(&self, e: &Entry) -> bool {
        e.trigger
            .as_deref()
            .is_some_and(|t| t.contains(&self.relative_path))
            || e.paths.contains(&self.relative_path)
    }

    fn boost(&self, e: &Entry) -> f32 {
        let mut boost = 0.0;
        if self.language.is_some() && e.language == self.language {
            boost += 0.15;
        }
        let dir = self
            .relative_path
            .rsplit_once('/')
            .map(|(d, _)| d)
            .unwrap_or("");
        let mentions = |p: &str| {
            p == self.relative_path
                || p.starts_with(&format!("{}:", self.relative_path))
                || (!dir.is_empty() && p.starts_with(dir))
        };
        if e.examples.iter().any(|p| mentions(p)) || e.paths.iter().any(|p| mentions(p)) {
            boost += 0.1;
        }
        if e.trigger
            .as_deref()
            .is_some_and(|t| t.contains(&self.relative_path))
        {
            boost += 0.2;
        }
        boost
    }
}

/// Scores one candidate. `relevance` comes from search (0 when there is no query).
pub fn score(
    entry: &Entry,
    hit: Option<&Hit>,
    focus: Option<&FileFocus>,
    settings: &AssembleSettings,
    now: i64,
) -> Scored {
    let (score, parts) = score_parts(entry, hit, focus, settings, now);
    Scored {
        score,
        parts,
        entry: entry.clone(),
    }
}

/// The score and its parts, without copying the entry.
pub fn score_parts(
    entry: &Entry,
    hit: Option<&Hit>,
    focus: Option<&FileFocus>,
    settings: &AssembleSettings,
    now: i64,
) -> (f32, ScoreParts) {
    let w = settings.weights;
    // Cosine says how close in meaning, BM25 how many rare words are shared; a saturating
    // BM25 keeps one long keyword match from outweighing meaning.
    let similarity = hit.and_then(|h| h.similarity);
    let bm25 = hit.and_then(|h| h.bm25);
    let bm25_part = bm25.map(|b| b / (b + 2.0)).unwrap_or(0.0);
    let relevance = hit
        .map(|_| 0.7 * similarity.unwrap_or(0.0).max(0.0) + 0.3 * bm25_part)
        .unwrap_or(0.0);
    let last = entry.last_accessed_at.max(entry.updated_at);
    let age_days = ((now - last).max(0) as f32) / 86_400_000.0;
    let recency = 0.5f32.powf(age_days / settings.recency_half_life_days.max(0.1));
    let frequency = 1.0 - 1.0 / (1.0 + entry.access_count as f32 / 5.0);
    let file_boost = focus.map(|f| f.boost(entry)).unwrap_or(0.0);
    let parts = ScoreParts {
        relevance,
        similarity,
        bm25,
        importance: entry.importance,
        recency,
        frequency,
        confidence: entry.confidence,
        file_boost,
    };
    let score = w.relevance * relevance
        + w.importance * entry.importance
        + w.recency * recency
        + w.frequency * frequency
        + w.confidence * entry.confidence
        + file_boost;
    (score, parts)
}

/// The tokenizer budgets are counted in: OpenAI's `cl100k_base` BPE (GPT-4 class models),
/// embedded in the binary. Other vendors' tokenizers differ by a few percent; counting with
/// a real BPE rather than characters/4 keeps code and identifiers from overflowing a budget.
pub const TOKENIZER: &str = "cl100k_base";

/// Token counts of rendered entries; an entry's rendering changes rarely, and counting is
/// the costliest step of selection.
static TOKEN_CACHE: std::sync::LazyLock<std::sync::Mutex<HashMap<u64, usize>>> =
    std::sync::LazyLock::new(|| std::sync::Mutex::new(HashMap::new()));

/// Loads the BPE ranks (about 100 ms) before the first request needs them.
pub fn warm_up_tokenizer() {
    count_tokens("warm up");
}

/// The number of `cl100k_base` tokens in `text`.
pub fn count_tokens(text: &str) -> usize {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    let key = hasher.finish();
    if let Some(n) = TOKEN_CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        return *n;
    }
    let n = cl100k::CL100K.count(text);
    let mut cache = TOKEN_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() > 50_000 {
        cache.clear();
    }
    cache.insert(key, n);
    n
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Assembled {
    pub pinned: Vec<Scored>,
    pub memories: Vec<Scored>,
    pub procedures: Vec<Scored>,
    pub episodes: Vec<Scored>,
    pub markdown: String,
    pub tokens_used: usize,
    pub budget_tokens: usize,
    /// What `tokens_used` and `budget_tokens` are counted in.
    pub tokenizer: String,
}

/// Shares of the budget left after pinned blocks; unused share flows to the next layer.
const LAYER_SHARES: [(Layer, f32); 3] = [
    (Layer::Memory, 0.5),
    (Layer::Procedure, 0.3),
    (Layer::Episode, 0.2),
];

/// Maximal marginal relevance within each layer: the next entry is the one with the best
/// score minus `diversity` times its closeness to what was already chosen, so five wordings
/// of one convention do not take five slots. The first `picks` of each layer are chosen so,
/// from its best `2 × picks`; the rest follow by score.
fn diversify(mut ranked: Vec<Scored>, diversity: f32, picks: usize) -> Vec<Scored> {
    if diversity <= 0.0 {
        return ranked;
    }
    let mut out = Vec::with_capacity(ranked.len());
    for layer in Layer::ALL {
        let (mut pool, others): (Vec<Scored>, Vec<Scored>) =
            ranked.into_iter().partition(|s| s.entry.layer == layer);
        ranked = others;
        let mut rest = pool.split_off(pool.len().min(picks * 2));
        // closest[i]: highest cosine between pool[i] and anything chosen so far.
        let mut closest = vec![0.0f32; pool.len()];
        let mut chosen_here = 0;
        while !pool.is_empty() && chosen_here < picks {
            chosen_here += 1;
            let best = (0..pool.len())
                .max_by(|&a, &b| {
                    let ma = pool[a].score - diversity * closest[a];
                    let mb = pool[b].score - diversity * closest[b];
                    ma.total_cmp(&mb)
                        .then(pool[b].entry.id.cmp(&pool[a].entry.id))
                })
                .unwrap_or(0);
            let chosen = pool.swap_remove(best);
            closest.swap_remove(best);
            for (i, other) in pool.iter().enumerate() {
                let close = crate::vector::cosine(&chosen.entry.vector, &other.entry.vector);
                closest[i] = closest[i].max(close);
            }
            out.push(chosen);
        }
        pool.append(&mut rest);
        pool.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.entry.id.cmp(&b.entry.id))
        });
        out.extend(pool);
    }
    out
}

/// Picks, per layer and in score order (after diversification), what fits the budget;
/// renders the result.
pub fn select_and_render(
    title: &str,
    pinned: Vec<Scored>,
    mut ranked: Vec<Scored>,
    budget_tokens: usize,
    limit: usize,
    diversity: f32,
) -> Assembled {
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.entry.id.cmp(&b.entry.id))
    });
    let ranked = diversify(ranked, diversity, limit);
    let mut out = Assembled {
        budget_tokens,
        tokenizer: TOKENIZER.to_string(),
        ..Default::default()
    };
    let header = format!("# {title}\n");
    let mut used = count_tokens(&header);

    for p in pinned {
        let cost = count_tokens(&render_entry(&p.entry));
        if used.saturating_add(cost) <= budget_tokens {
            used += cost;
            out.pinned.push(p);
        }
    }

    let mut seen_text = HashSet::new();
    let mut carry = 0usize;
    let mut carry_slots = 0usize;
    let remaining = budget_tokens.saturating_sub(used);
    for (layer, share) in LAYER_SHARES {
        // Tokens and entry slots are both shared out by layer, so that a query full of
        // convention matches still leaves room for the procedure that answers it; what one
        // layer leaves unused flows to the next.
        let mut allowance = ((remaining as f32 * share) as usize).saturating_add(carry);
        let floor = |share: f32| (limit as f32 * share).floor() as usize;
        let mut slots = floor(share).saturating_add(carry_slots);
        if layer == Layer::Memory {
            // Rounding leftovers go to conventions, the layer most queries are about.
            let shared = LAYER_SHARES
                .iter()
                .map(|(_, s)| floor(*s))
                .fold(0, usize::saturating_add);
            slots = slots.saturating_add(limit.saturating_sub(shared));
        }
        let target = match layer {
            Layer::Memory => &mut out.memories,
            Layer::Procedure => &mut out.procedures,
            _ => &mut out.episodes,
        };
        for s in ranked.iter().filter(|s| s.entry.layer == layer) {
            if slots == 0 {
                break;
            }
            let seen_key = s.entry.text.to_lowercase();
            if seen_text.contains(&seen_key) {
                continue;
            }
            let cost = count_tokens(&render_entry(&s.entry));
            if cost <= allowance {
                seen_text.insert(seen_key);
                allowance -= cost;
                slots -= 1;
                target.push(s.clone());
            }
        }
        carry = allowance;
        carry_slots = slots;
    }
    // Second pass: what the shares left unused goes to the best of what did not fit.
    for s in &ranked {
        if carry_slots == 0 {
            break;
        }
        let seen_key = s.entry.text.to_lowercase();
        if s.entry.layer == Layer::Pinned || seen_text.contains(&seen_key) {
            continue;
        }
        let cost = count_tokens(&render_entry(&s.entry));
        if cost <= carry {
            seen_text.insert(seen_key);
            carry -= cost;
            carry_slots -= 1;
            match s.entry.layer {
                Layer::Memory => out.memories.push(s.clone()),
                Layer::Procedure => out.procedures.push(s.clone()),
                _ => out.episodes.push(s.clone()),
            }
        }
    }
    // Section headings are not in the per-entry costs: drop the weakest entries until the
    // rendering itself fits, so the budget is a promise and not an estimate.
    out.markdown = render_markdown(&header, &out);
    while count_tokens(&out.markdown) > budget_tokens && drop_weakest(&mut out) {
        out.markdown = render_markdown(&header, &out);
    }
    out.tokens_used = count_tokens(&out.markdown);
    out
}

fn drop_weakest(a: &mut Assembled) -> bool {
    let lists = [&mut a.episodes, &mut a.procedures, &mut a.memories];
    let weakest = lists.into_iter().filter(|l| !l.is_empty()).min_by(|x, y| {
        let (sx, sy) = (x[x.len() - 1].score, y[y.len() - 1].score);
        sx.total_cmp(&sy)
    });
    match weakest {
        Some(list) => {
            list.pop();
            true
        }
        // Pinned blocks go last, and only if they alone overflow the budget.
        None => a.pinned.pop().is_some(),
    }
}

/// One entry as a markdown list item (procedures as numbered steps).
pub fn render_entry(e: &Entry) -> String {
    let mut line = format!("- {}", e.text.trim());
    let mut notes = Vec::new();
    if let Some(ev) = e.evidence {
        if ev.total > 1 {
            notes.push(format!("{}/{}", ev.matching, ev.total));
        }
    }
    if let Some(first) = e.examples.first() {
        notes.push(first.clone());
    }
    if !notes.is_empty() {
        line.push_str(&format!(" _({})_", notes.join(", ")));
    }
    line.push('\n');
    // Steps are listed only when the sentence does not already spell them out.
    let spelled_out = e
        .steps
        .iter()
        .any(|s| s.command.as_deref().is_some_and(|c| e.text.contains(c)) || e.text.contains("1."));
    if e.layer == Layer::Procedure && !e.steps.is_empty() && !spelled_out {
        for (i, step) in e.steps.iter().enumerate() {
            match &step.command {
                Some(cmd) => line.push_str(&format!("  {}. `{}`\n", i + 1, cmd)),
                None => line.push_str(&format!("  {}. {}\n", i + 1, step.text)),
            }
        }
    }
    line
}

fn render_markdown(header: &str, a: &Assembled) -> String {
    let mut md = header.to_string();
    let mut section = |title: &str, items: &[Scored]| {
        if items.is_empty() {
            return;
        }
        md.push_str(&format!("\n## {title}\n"));
        for s in items {
            md.push_str(&render_entry(&s.entry));
        }
    };
    section("Pinned", &a.pinned);
    section("Conventions", &a.memories);
    section("Procedures", &a.procedures);
    section("History", &a.episodes);
    if a.pinned.is_empty()
        && a.memories.is_empty()
        && a.procedures.is_empty()
        && a.episodes.is_empty()
    {
        md.push_str(
            "\n_No stored knowledge matches yet. Run `tacit index` or remember something._\n",
        );
    }
    md
}

pub fn now() -> i64 {
    now_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Source;

    fn scored(text: &str, layer: Layer, score: f32) -> Scored {
        Scored {
            score,
            parts: ScoreParts::default(),
            entry: Entry::user("user", layer, Source::User, text),
        }
    }

    #[test]
    fn output_never_exceeds_the_budget_and_pinned_blocks_come_first() {
        let long = "word ".repeat(60);
        let ranked: Vec<Scored> = (0..20)
            .map(|i| scored(&format!("{long} {i}"), Layer::Memory, i as f32))
            .collect();
        let pinned = vec![scored("Answer in English.", Layer::Pinned, 0.0)];
        let a = select_and_render("ctx", pinned, ranked, 300, 15, 0.3);
        assert_eq!(a.pinned.len(), 1);
        assert!(
            count_tokens(&a.markdown) <= 300,
            "{}",
            count_tokens(&a.markdown)
        );
        assert!(!a.memories.is_empty());
        assert!(a.markdown.find("Answer in English").unwrap() < a.markdown.find("word").unwrap());
        // Highest score first.
        assert!(a.memories[0].entry.text.ends_with(" 19"));
    }

    #[test]
    fn the_largest_budget_and_limit_a_client_can_send_render_everything_without_overflow() {
        let ranked: Vec<Scored> = (0..12)
            .map(|i| scored(&format!("convention number {i}"), Layer::Memory, i as f32))
            .chain((0..3).map(|i| scored(&format!("step {i}"), Layer::Procedure, 1.0)))
            .collect();
        let pinned = vec![scored("Answer in English.", Layer::Pinned, 0.0)];
        let a = select_and_render("ctx", pinned, ranked, usize::MAX, usize::MAX, 0.0);
        assert_eq!(a.pinned.len(), 1);
        assert_eq!(a.memories.len(), 12);
        assert_eq!(a.procedures.len(), 3);
    }

    #[test]
    fn many_matching_conventions_still_leave_room_for_procedures() {
        let mut ranked: Vec<Scored> = (0..30)
            .map(|i| scored(&format!("convention number {i}"), Layer::Memory, 1.0))
            .collect();
        ranked.push(scored(
            "Before committing: run cargo test.",
            Layer::Procedure,
            0.1,
        ));
        let a = select_and_render("ctx", Vec::new(), ranked, 1500, 15, 0.3);
        assert_eq!(a.procedures.len(), 1);
        assert_eq!(
            a.memories.len(),
            14,
            "unused procedure and episode slots flow back"
        );
    }

    #[test]
    fn near_duplicates_do_not_fill_the_slots() {
        let with_vector = |text: &str, score: f32, axis: usize| {
            let mut s = scored(text, Layer::Memory, score);
            s.entry.vector = vec![0.0; 4];
            s.entry.vector[axis] = 1.0;
            s
        };
        let ranked = vec![
            with_vector("Use tracing for logs.", 0.90, 0),
            with_vector("Log with tracing.", 0.89, 0),
            with_vector("Logging goes through tracing.", 0.88, 0),
            with_vector("Errors are thiserror enums.", 0.80, 1),
        ];
        let a = select_and_render("ctx", Vec::new(), ranked.clone(), 1500, 2, 0.3);
        let texts: Vec<_> = a.memories.iter().map(|s| s.entry.text.as_str()).collect();
        assert_eq!(
            texts,
            vec!["Use tracing for logs.", "Errors are thiserror enums."]
        );
        // Without diversity the two best wordings of one rule take both slots.
        let a = select_and_render("ctx", Vec::new(), ranked, 1500, 2, 0.0);
        let texts: Vec<_> = a.memories.iter().map(|s| s.entry.text.as_str()).collect();
        assert_eq!(texts, vec!["Use tracing for logs.", "Log with tracing."]);
    }

    #[test]
    fn budgets_are_counted_in_real_tokens() {
        // Identifiers and punctuation cost more tokens than characters/4 suggests.
        let code = "fn parse_request_header_v2(&mut self) -> Result<Option<HeaderMap>, ParseErr>";
        assert!(
            count_tokens(code) > code.len() / 4,
            "{}",
            count_tokens(code)
        );
        assert_eq!(count_tokens("hello world"), 2);
    }

    #[test]
    fn file_focus_boosts_the_files_language_and_directory() {
        let focus = FileFocus::new(Path::new("src/store/mod.rs"));
        let mut rust = Entry::user("s", Layer::Memory, Source::User, "x");
        rust.language = Some("rust".into());
        let mut py = rust.clone();
        py.language = Some("python".into());
        let settings = AssembleSettings::default();
        let now = now_millis();
        assert!(
            score(&rust, None, Some(&focus), &settings, now).score
                > score(&py, None, Some(&focus), &settings, now).score
        );
    }
}
