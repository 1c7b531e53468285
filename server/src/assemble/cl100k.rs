//! How many tokens a text is in OpenAI's `cl100k_base` encoding, the unit budgets are
//! counted in, without tiktoken-rs's in-memory tables.
//!
//! tiktoken-rs holds the 100,256-token vocabulary three times (an encoder, a decoder and a
//! sorted copy), each token its own heap allocation: about 11 MB in every server process,
//! to count. A count needs only the rank of a byte string, so this keeps the tokens' bytes
//! in one buffer and their ranks in one hash table of `u32`s (about 1.6 MB).
//!
//! The vocabulary is OpenAI's `cl100k_base.tiktoken` (a token's bytes in base64 and its
//! rank, a line each; MIT licence, from tiktoken), the very file tiktoken-rs 0.12 embeds,
//! read here directly: building tiktoken-rs's tables to read it back took about 96 ms of CPU
//! in every process, which a server's first index paid while it embedded, and each CLI
//! context before it could count. tiktoken-rs is the reference the unit tests hold the
//! vocabulary and the count to.

use std::collections::BinaryHeap;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::sync::LazyLock;

use hashbrown::HashTable;
use rustc_hash::FxHasher;

/// How `cl100k_base` cuts a text into pieces before merging bytes (tiktoken-rs's
/// `cl100k_base()`, as OpenAI's tiktoken writes it).
const PIECES: &str = "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s";

type Hasher = BuildHasherDefault<FxHasher>;

pub struct Cl100k {
    /// Every token's bytes, in rank order.
    bytes: Vec<u8>,
    /// Where token `rank` ends in `bytes` (it starts where `rank - 1` ends).
    ends: Vec<u32>,
    /// Ranks, found by their bytes.
    ranks: HashTable<u32>,
    hasher: Hasher,
    pieces: fancy_regex::Regex,
}

/// The vocabulary, in rank order.
const VOCABULARY: &str = include_str!("cl100k_base.tiktoken");

/// Built on first use (about 10 ms); [`super::warm_up_tokenizer`] does it at start.
pub static CL100K: LazyLock<Cl100k> = LazyLock::new(Cl100k::load);

impl Cl100k {
    fn load() -> Cl100k {
        use base64::Engine as _;
        // Both are compiled into the binary (and a unit test reads them whole), so neither
        // can fail at run time.
        let pieces = fancy_regex::Regex::new(PIECES).expect("the cl100k_base pattern");
        let mut bytes = Vec::with_capacity(700_000);
        let mut ends = Vec::with_capacity(100_256);
        // Ordinary tokens only, ranks 0..100_256 in order; the special ones (<|endoftext|> …)
        // are never produced from text by a count.
        for line in VOCABULARY.lines() {
            let token = line.split(' ').next().unwrap_or_default();
            base64::engine::general_purpose::STANDARD
                .decode_vec(token, &mut bytes)
                .expect("the vocabulary is base64, a token a line");
            ends.push(bytes.len() as u32);
        }
        let hasher = Hasher::default();
        let mut ranks = HashTable::with_capacity(ends.len());
        let mut start = 0;
        for (rank, &end) in ends.iter().enumerate() {
            let token = &bytes[start..end as usize];
            ranks.insert_unique(hasher.hash_one(token), rank as u32, |&r| {
                hasher.hash_one(token_bytes(&bytes, &ends, r))
            });
            start = end as usize;
        }
        bytes.shrink_to_fit();
        Cl100k {
            bytes,
            ends,
            ranks,
            hasher,
            pieces,
        }
    }

    fn rank(&self, piece: &[u8]) -> Option<u32> {
        self.ranks
            .find(self.hasher.hash_one(piece), |&r| {
                token_bytes(&self.bytes, &self.ends, r) == piece
            })
            .copied()
    }

    /// The number of tokens `text` encodes to (tiktoken's `encode_ordinary(text).len()`).
    pub fn count(&self, text: &str) -> usize {
        let mut n = 0;
        for piece in self.pieces.find_iter(text) {
            let Ok(piece) = piece else {
                // The pattern's backtracking limit: not reached by any text tacit renders,
                // but a count must not fail. A token is about four bytes of English.
                tracing::debug!("cl100k pieces: backtracking limit; counting bytes / 4");
                return text.len().div_ceil(4);
            };
            let piece = piece.as_str().as_bytes();
            n += match self.rank(piece) {
                Some(_) => 1,
                None => self.merged(piece),
            };
        }
        n
    }

    /// Byte-pair merging of one piece that is not a token itself: the pair of adjacent parts
    /// whose joined bytes have the lowest rank merges first (the leftmost on a tie), until
    /// no pair is a token; the parts left are the piece's tokens.
    fn merged(&self, piece: &[u8]) -> usize {
        // Parts are kept as a linked list over their start bytes; `end[i]` is where the
        // part starting at `i` ends, `prev[i]` the start of the part before it.
        let len = piece.len();
        let mut end: Vec<usize> = (1..=len).collect();
        let mut prev: Vec<usize> = (0..len).map(|i| i.wrapping_sub(1)).collect();
        let mut alive = vec![true; len];
        let mut queue = BinaryHeap::new();
        let pair = |start: usize, end: &[usize]| -> Option<Pair> {
            let next = end[start];
            if next >= len {
                return None;
            }
            let until = end[next];
            let rank = self.rank(&piece[start..until])?;
            Some(Pair { rank, start, until })
        };
        queue.extend((0..len).filter_map(|i| pair(i, &end)));
        let mut parts = len;
        while let Some(Pair { start, until, .. }) = queue.pop() {
            // Entries made before a neighbour merged no longer describe a pair.
            if !alive[start] || end[start] >= len || end[end[start]] != until {
                continue;
            }
            let next = end[start];
            alive[next] = false;
            end[start] = until;
            if until < len {
                prev[until] = start;
            }
            parts -= 1;
            queue.extend(pair(start, &end));
            if prev[start] != usize::MAX {
                queue.extend(pair(prev[start], &end));
            }
        }
        parts
    }

    /// The number of ordinary tokens in the vocabulary.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.ends.len()
    }
}

fn token_bytes<'a>(bytes: &'a [u8], ends: &[u32], rank: u32) -> &'a [u8] {
    let start = match rank {
        0 => 0,
        r => ends[r as usize - 1] as usize,
    };
    &bytes[start..ends[rank as usize] as usize]
}

/// A pair of adjacent parts that is a token: `start..until` in the piece.
#[derive(PartialEq, Eq)]
struct Pair {
    rank: u32,
    start: usize,
    until: usize,
}

impl Ord for Pair {
    /// The max-heap pops the lowest rank first, then the leftmost pair.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.rank, other.start).cmp(&(self.rank, self.start))
    }
}

impl PartialOrd for Pair {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn reference(text: &str) -> usize {
        tiktoken_rs::cl100k_base_singleton()
            .encode_ordinary(text)
            .len()
    }

    /// The vocabulary read here is tiktoken-rs's, token by token and rank by rank.
    #[test]
    fn the_vocabulary_is_tiktokens() {
        let bpe = tiktoken_rs::cl100k_base_singleton();
        for (rank, line) in VOCABULARY.lines().enumerate() {
            assert_eq!(line.split(' ').nth(1), Some(rank.to_string().as_str()));
            let expected = bpe.decode_bytes(&[rank as u32]).expect("an ordinary token");
            assert_eq!(
                token_bytes(&CL100K.bytes, &CL100K.ends, rank as u32),
                expected
            );
        }
        assert!(bpe.decode_bytes(&[CL100K.len() as u32]).is_err());
    }

    /// Every Rust, Markdown and TOML file of tacit's own sources, a line at a time and whole,
    /// plus texts made to hit the merge's corners: counted as tiktoken-rs counts them.
    #[test]
    fn counts_as_tiktoken_does() {
        assert_eq!(CL100K.len(), 100_256);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut texts: Vec<String> = vec![
            String::new(),
            "x".into(),
            "Before you commit, run cargo fmt and cargo clippy with -D warnings.".into(),
            "héllo wörld — ünïcödé ✓ 日本語のテキスト 🦀🦀🦀".into(),
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".repeat(8),
            "QmFzZTY0IGVuY29kZWQgdGV4dCB3aXRoIG5vIHNwYWNlcw==".repeat(40),
            "   \n\n\t  trailing   ".into(),
            "don't it's we'll they've I'M YOU'RE".into(),
        ];
        let mut seen = HashSet::new();
        for entry in walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_entry(|e| {
                !matches!(
                    e.file_name().to_str(),
                    Some("target" | "node_modules" | ".git")
                )
            })
            .filter_map(Result::ok)
        {
            let path = entry.path();
            let wanted = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("rs" | "md" | "toml")
            );
            if wanted && seen.insert(path.to_path_buf()) {
                if let Ok(text) = std::fs::read_to_string(path) {
                    texts.extend(text.lines().map(str::to_string));
                    texts.push(text);
                }
            }
        }
        assert!(
            seen.len() > 50,
            "read {} files of tacit's sources",
            seen.len()
        );
        for text in &texts {
            assert_eq!(
                CL100K.count(text),
                reference(text),
                "{:?}",
                &text[..text.len().min(200)]
            );
        }
    }
}
