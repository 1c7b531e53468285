//! A mutation fuzzer for the framing guard, run as an ordinary test for a bounded time:
//! `TACIT_FUZZ_SECS` (default 30) seconds, from a seed taken from the clock and printed, or
//! from `TACIT_FUZZ_SEED` to replay a run. (cargo-fuzz needs a nightly compiler.) Inputs are
//! the frames checked in under `tests/fuzz/corpus/framing`, spliced and mutated: byte flips,
//! cuts, insertions, duplicated or dropped header lines, rewritten lengths, header fragments.
//! Each mutated input is followed by valid frames, and on every case:
//! - the guard does not panic, and never holds back more than its limit;
//! - every frame it passes on is a JSON-RPC message;
//! - the valid frames after the corrupt region come out intact, last, and in order;
//! - splitting the input into other pieces gives the same frames;
//! - (every 32nd case) the async guard writes exactly those frames to tower-lsp.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use serde_json::json;
use tokio::io::AsyncReadExt;

use super::{check, guard, Deframer, Frame, MAX_FRAME};
use seeded::{settings, Rng};

#[path = "../../../../tests/fuzz/seeded.rs"]
mod seeded;

fn corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fuzz/corpus/framing");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    inputs.sort();
    let inputs: Vec<Vec<u8>> = inputs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(
        inputs.len() >= 10,
        "the framing corpus in {dir:?} is missing"
    );
    inputs
}

/// Starts of the lines that name a header, for the header-aware mutations.
fn header_lines(input: &[u8]) -> Vec<(usize, usize)> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, &b) in input.iter().enumerate() {
        if b == b'\n' {
            let line = &input[start..i];
            if line.len() > 8 && line[..8].eq_ignore_ascii_case(b"content-") {
                lines.push((start, i + 1));
            }
            start = i + 1;
        }
    }
    lines
}

const FRAGMENTS: &[&[u8]] = &[
    b"Content-Length: ",
    b"Content-Length: 10\r\n",
    b"Content-Length: 0\r\n\r\n",
    b"Content-Length: 99999999999\r\n\r\n",
    b"content-length:5\n\n",
    b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n",
    b"\r\n\r\n",
    b"\r\n",
    b"\n",
    b"{\"jsonrpc\":\"2.0\",",
    b"\"",
    b"\\",
    b"\x00",
    b"\xff\xfe",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    let at = |rng: &mut Rng, input: &Vec<u8>| rng.below(input.len() + 1);
    match rng.below(11) {
        0 if !input.is_empty() => {
            let i = rng.below(input.len());
            input[i] ^= 1 << rng.below(8);
        }
        1 => {
            let from = at(rng, input);
            let to = (from + rng.below(64)).min(input.len());
            input.drain(from..to);
        }
        2 => {
            let i = at(rng, input);
            let bytes: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
            input.splice(i..i, bytes);
        }
        3 => input.truncate(at(rng, input)),
        4 => {
            let other = rng.pick(corpus);
            let from = rng.below(other.len() + 1);
            let to = from + rng.below(other.len() - from + 1);
            let i = at(rng, input);
            input.splice(i..i, other[from..to].iter().copied());
        }
        5 | 6 => {
            let lines = header_lines(input);
            if lines.is_empty() {
                return;
            }
            let (start, end) = lines[rng.below(lines.len())];
            if rng.one_in(2) {
                let line = input[start..end].to_vec();
                input.splice(start..start, line);
            } else {
                input.drain(start..end);
            }
        }
        7 => {
            // A wrong length: off by a little, zero, huge or random.
            let lines = header_lines(input);
            let Some(&(start, end)) = lines.get(rng.below(lines.len())) else {
                return;
            };
            let value = match rng.below(5) {
                0 => "0".to_string(),
                1 => (rng.below(100)).to_string(),
                2 => (rng.below(5000)).to_string(),
                3 => "184467440737095516150".to_string(),
                _ => "abc".to_string(),
            };
            let line = format!("Content-Length: {value}\r\n");
            input.splice(start..end, line.into_bytes());
        }
        8 | 9 => {
            let fragment = *rng.pick(FRAGMENTS);
            let i = at(rng, input);
            input.splice(i..i, fragment.iter().copied());
        }
        _ => {
            // A long run, for the length limits.
            let byte = [b'a', b' ', b'\r', b'x', b'{', b'C'][rng.below(6)];
            let i = at(rng, input);
            let n = rng.below(20_000);
            input.splice(i..i, std::iter::repeat_n(byte, n));
        }
    }
}

/// The frames `input` gives, pushed in pieces of the given sizes (cycled); checks the
/// buffer bound after every push.
fn deframe(input: &[u8], max_frame: usize, pieces: &[usize]) -> Vec<Frame> {
    let mut deframer = Deframer::new(max_frame);
    let mut frames = Vec::new();
    let mut rest = input;
    let mut sizes = pieces.iter().cycle();
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap()).clamp(1, rest.len());
        deframer.push(&rest[..n], &mut frames);
        rest = &rest[n..];
        assert!(
            deframer.buffered() <= deframer.buffer_limit(),
            "{} bytes held back, over the limit of {}",
            deframer.buffered(),
            deframer.buffer_limit()
        );
    }
    frames
}

fn sentinel(rng: &mut Rng, case: u64, k: usize) -> Vec<u8> {
    let text = ["", "ünïcödé 🚀", "Content-Length: 5", "\r\n\r\n", "\\\""][rng.below(5)];
    json!({"jsonrpc": "2.0", "id": format!("sentinel-{case}-{k}"), "method": "tacit/probe",
        "params": {"text": text}})
    .to_string()
    .into_bytes()
}

/// Runs one case; whether its input held a corrupt region the guard had to recover from.
fn run_case(
    rng: &mut Rng,
    case: u64,
    corpus: &[Vec<u8>],
    runtime: &tokio::runtime::Runtime,
) -> bool {
    let fresh = case >= corpus.len() as u64;
    let mut input = if fresh {
        rng.pick(corpus).clone()
    } else {
        corpus[case as usize].clone()
    };
    if fresh {
        for _ in 0..1 + rng.below(8) {
            mutate(rng, &mut input, corpus);
        }
    }
    let sentinels: Vec<Vec<u8>> = (0..1 + rng.below(3))
        .map(|k| sentinel(rng, case, k))
        .collect();
    for body in &sentinels {
        input.extend(format!("Content-Length: {}\r\n\r\n", body.len()).bytes());
        input.extend(body);
    }
    let max_frame = if rng.one_in(2) {
        MAX_FRAME
    } else {
        256 + rng.below(8192)
    };
    let described = || {
        let shown = &input[..input.len().min(2000)];
        format!(
            "case {case}, max frame {max_frame}, input ({} bytes) {:?}",
            input.len(),
            String::from_utf8_lossy(shown)
        )
    };

    let whole = deframe(&input, max_frame, &[input.len()]);
    let pieces: Vec<usize> = match rng.below(3) {
        0 => vec![1],
        1 => (0..1 + rng.below(8)).map(|_| 1 + rng.below(64)).collect(),
        _ => (0..1 + rng.below(8)).map(|_| 1 + rng.below(8192)).collect(),
    };
    let split = deframe(&input, max_frame, &pieces);
    assert_eq!(
        whole,
        split,
        "pieces {pieces:?} changed the frames; {}",
        described()
    );

    for frame in &whole {
        match frame {
            Frame::Message(body) => assert!(
                check(body).is_ok() && body.len() <= max_frame,
                "passed on a frame that is no message; {}",
                described()
            ),
            Frame::Malformed { problem, .. } => assert!(!problem.detail.is_empty()),
        }
    }
    let tail: Vec<&Frame> = whole.iter().rev().take(sentinels.len()).rev().collect();
    let expected: Vec<Frame> = sentinels.iter().cloned().map(Frame::Message).collect();
    assert_eq!(
        tail,
        expected.iter().collect::<Vec<_>>(),
        "the valid frames after the corrupt region were not delivered intact; {}",
        described()
    );

    if case.is_multiple_of(32) {
        let wire: Vec<u8> = deframe(&input, MAX_FRAME, &[input.len()])
            .into_iter()
            .filter_map(Frame::into_wire)
            .collect::<Vec<_>>()
            .concat();
        let written = runtime.block_on(async {
            let mut out = guard(std::io::Cursor::new(input.clone()));
            let mut all = Vec::new();
            out.read_to_end(&mut all).await.unwrap();
            all
        });
        assert!(
            written == wire,
            "the guard wrote other frames than the deframer gave; {}",
            described()
        );
    }
    whole.iter().any(|f| matches!(f, Frame::Malformed { .. }))
}

#[test]
fn framing_survives_mutated_input() {
    let (seed, budget) = settings();
    let corpus = corpus();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let (mut case, mut recovered) = (0u64, 0u64);
    // The corpus itself always runs, whatever the budget.
    while case < corpus.len() as u64 || started.elapsed() < budget {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_case(&mut rng, case, &corpus, &runtime)
        }));
        match result {
            Ok(corrupt) => recovered += u64::from(corrupt),
            Err(panic) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "framing fuzz failed at case {case}; replay with TACIT_FUZZ_SEED={seed}"
                );
                std::panic::resume_unwind(panic);
            }
        }
        case += 1;
    }
    // Written past the test harness's capture, so that CI logs show what ran.
    let _ = writeln!(
        std::io::stderr(),
        "framing fuzz: seed {seed}, {case} cases ({recovered} recovered from a corrupt region) \
         in {:.1} s (TACIT_FUZZ_SEED={seed} replays it)",
        started.elapsed().as_secs_f64()
    );
}
