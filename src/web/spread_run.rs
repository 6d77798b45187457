//! Many seeds of one scenario, run off the page's thread or in slices on it ("How often?").
//!
//! A [`SpreadJob`] owns the seed range, the seeds not yet handed out and the [`Spread`] counted
//! so far. The page hands out chunks of seeds ([`SpreadJob::hand_out`]) to web workers, each
//! answering with the `Spread` of its chunk ([`run_chunk`], the wasm's `spread_seeds` export),
//! and adds the answers as they come ([`SpreadJob::add`]); an idle worker gets the next chunk,
//! so a slow one holds back at most one chunk. Where workers cannot start, [`SpreadJob::step`]
//! runs whole seeds on the page until a time budget is spent (at least one seed, so it always
//! progresses), one slice per timer tick. Either way the counts equal `sim::run_seeds` over the
//! same range (`Spread::merge` is order-independent), the progress is the runs counted, and
//! dropping the job cancels it. Pure: no DOM, unit-tested natively.

use std::ops::Range;

use crate::sim::spread::{DurationSpread, EventTally, OutcomeTally};
use crate::sim::summary::{Outcome, ReplicaOutcome, Step};
use crate::sim::{run_seeds, Scenario, Spread};

/// Runs per spread the page offers; [`DEFAULT_RUNS`] is chosen until the person picks another.
pub const RUN_COUNTS: [u64; 3] = [20, 100, 500];
pub const DEFAULT_RUNS: u64 = 100;

pub struct SpreadJob {
    scenario: Scenario,
    seeds: Range<u64>,
    /// The first seed not yet handed out (to a worker or to `step`).
    next: u64,
    spread: Spread,
}

impl SpreadJob {
    /// `runs` seeds from `first_seed` on (as `replscope sim --seed S --seeds N`), each run for
    /// the scenario's duration.
    pub fn new(scenario: &Scenario, first_seed: u64, runs: u64) -> SpreadJob {
        let end = first_seed.saturating_add(runs);
        SpreadJob {
            scenario: scenario.clone(),
            seeds: first_seed..end,
            next: first_seed,
            spread: Spread {
                until_ms: scenario.duration,
                ..Spread::default()
            },
        }
    }

    /// The same job from the start, nothing counted or handed out.
    pub fn restarted(&self) -> SpreadJob {
        SpreadJob::new(
            &self.scenario,
            self.seeds.start,
            self.seeds.end - self.seeds.start,
        )
    }

    pub fn seeds(&self) -> Range<u64> {
        self.seeds.clone()
    }

    /// (runs counted, runs asked for).
    pub fn progress(&self) -> (u64, u64) {
        (self.spread.runs, self.seeds.end - self.seeds.start)
    }

    /// Every seed of the range is counted.
    pub fn done(&self) -> bool {
        self.spread.runs >= self.seeds.end - self.seeds.start
    }

    /// Runs seeds on this thread until `spent()` says the slice's time is over (checked after
    /// each seed, so at least one runs) or no seed is left to hand out. Returns whether the job
    /// is done.
    pub fn step(&mut self, spent: &mut dyn FnMut() -> bool) -> bool {
        while let Some(seeds) = self.hand_out(1) {
            let part = run_seeds(&self.scenario, seeds, self.spread.until_ms);
            self.add(part);
            if spent() {
                break;
            }
        }
        self.done()
    }

    /// The next `size` seeds (fewer at the end) not yet handed out, as a request for a worker;
    /// `None` once every seed has been handed out. Each seed is handed out once.
    pub fn hand_out(&mut self, size: u64) -> Option<Range<u64>> {
        if self.next >= self.seeds.end {
            return None;
        }
        let start = self.next;
        self.next = start.saturating_add(size.max(1)).min(self.seeds.end);
        Some(start..self.next)
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Counts a chunk's runs (run by `step` or a worker). Not inlined: one copy of
    /// `Spread::merge` in the page's wasm, not one per caller.
    #[inline(never)]
    pub fn add(&mut self, part: Spread) {
        self.spread.merge(part);
    }

    /// The counts so far (all of them once `done`).
    pub fn spread(&self) -> &Spread {
        &self.spread
    }

    pub fn into_spread(self) -> Spread {
        self.spread
    }
}

/// Seeds per chunk handed to a worker: about 16 chunks per worker, so the workers finish
/// within a chunk of each other (one seed of a 10-minute preset is ~10–40 ms) while the page
/// gets few enough answers that merging and drawing them costs the workers little.
pub fn chunk_size(runs: u64, workers: usize) -> u64 {
    (runs / (workers.max(1) as u64 * 16)).max(1)
}

/// The scenario as a worker is sent it: its preset's name, then each parameter (of
/// `sim::params()`, in that order, the version first) whose value differs from what the preset
/// with the earlier changes gives, as name and value; texts as [`encode`] writes them. `None`
/// when that does not rebuild the scenario exactly (a change no parameter names, such as a
/// per-link override): such a scenario runs on the page. Written by hand, like [`encode`]:
/// serde's JSON for `Scenario` and `Spread` made the page ~7 KB (gzipped) larger than these
/// two do (see the README's page size).
pub fn recipe(s: &Scenario) -> Option<String> {
    let mut rebuilt = Scenario::preset(&s.name)?;
    let mut out = String::new();
    text(&mut out, &s.name);
    for p in crate::sim::params() {
        let want = s.get(p.name)?;
        if rebuilt.get(p.name).as_ref() != Some(&want) {
            rebuilt.set(p.name, &want).ok()?;
            text(&mut out, p.name);
            text(&mut out, &want);
        }
    }
    (rebuilt == *s).then_some(out)
}

/// The scenario a [`recipe`] names.
fn from_recipe(recipe: &str) -> Result<Scenario, String> {
    let mut r = Reader::new(recipe);
    let name = r.text()?;
    let mut s = Scenario::preset(&name).ok_or_else(|| format!("no preset named {name}"))?;
    while !r.at_end() {
        let (key, value) = (r.text()?, r.text()?);
        s.set(&key, &value)
            .map_err(|e| format!("{key}={value}: {e}"))?;
    }
    Ok(s)
}

/// A worker's job (the wasm's `spread_seeds` export): `count` seeds from `first_seed` on of
/// the scenario `recipe` names, each run for the scenario's duration, answered as [`encode`]d
/// text. A recipe that does not read is an error, not a panic.
pub fn run_chunk(recipe: &str, first_seed: u64, count: u64) -> Result<String, String> {
    let s = from_recipe(recipe).map_err(|e| format!("bad scenario: {e}"))?;
    // Through `SpreadJob::step`, the page's own way of running seeds: one copy in the wasm.
    let mut job = SpreadJob::new(&s, first_seed, count);
    job.step(&mut || false);
    Ok(encode(job.spread()))
}

/// `<bytes>:<text>`, as [`Reader::text`] reads it.
fn text(out: &mut String, t: &str) {
    out.push_str(&t.len().to_string());
    out.push(':');
    out.push_str(t);
}

/// Every step, in the order [`encode`] numbers them.
const STEPS: [Step; 6] = [
    Step::Full,
    Step::Partial,
    Step::Online,
    Step::ObufCut,
    Step::Timeout,
    Step::Loaded,
];

/// A `Spread` as compact text for the trip from a worker to the page: numbers in decimal
/// ended by a space, texts as `<bytes>:<text>` (see [`recipe`] for why not serde's JSON).
/// [`decode`] reads it back.
pub fn encode(s: &Spread) -> String {
    let mut out = String::new();
    let num = |out: &mut String, n: u64| {
        out.push_str(&n.to_string());
        out.push(' ');
    };
    let step = |st: Step| STEPS.iter().position(|x| *x == st).unwrap_or(0) as u64;
    num(&mut out, s.until_ms);
    num(&mut out, s.runs);
    num(&mut out, s.outcomes.len() as u64);
    for o in &s.outcomes {
        num(&mut out, o.runs);
        num(&mut out, o.seeds.len() as u64);
        for seed in &o.seeds {
            num(&mut out, *seed);
        }
        num(&mut out, o.outcome.replicas.len() as u64);
        for r in &o.outcome.replicas {
            text(&mut out, &r.name);
            num(&mut out, u64::from(r.in_sync_at_end));
            num(&mut out, r.sequence.len() as u64);
            for st in &r.sequence {
                num(&mut out, step(*st));
            }
        }
    }
    num(&mut out, s.events.len() as u64);
    for e in &s.events {
        text(&mut out, &e.replica);
        text(&mut out, &e.event);
        num(&mut out, e.runs);
    }
    num(&mut out, s.durations.len() as u64);
    for d in &s.durations {
        text(&mut out, &d.replica);
        num(&mut out, d.full_sync as u64);
        num(&mut out, step(d.ended));
        num(&mut out, d.ms.len() as u64);
        for ms in &d.ms {
            num(&mut out, *ms);
        }
    }
    out
}

/// Reads what [`encode`] wrote; anything else is an error saying at which byte.
pub fn decode(text: &str) -> Result<Spread, String> {
    let mut r = Reader::new(text);
    let mut s = Spread {
        until_ms: r.num()?,
        runs: r.num()?,
        ..Spread::default()
    };
    for _ in 0..r.num()? {
        let runs = r.num()?;
        let seeds = r.nums()?;
        let mut replicas = Vec::new();
        for _ in 0..r.num()? {
            let name = r.text()?;
            let in_sync_at_end = r.num()? == 1;
            let mut sequence = Vec::new();
            for _ in 0..r.num()? {
                sequence.push(r.step()?);
            }
            replicas.push(ReplicaOutcome {
                name,
                sequence,
                in_sync_at_end,
            });
        }
        s.outcomes.push(OutcomeTally {
            outcome: Outcome { replicas },
            runs,
            seeds,
        });
    }
    for _ in 0..r.num()? {
        s.events.push(EventTally {
            replica: r.text()?,
            event: r.text()?,
            runs: r.num()?,
        });
    }
    for _ in 0..r.num()? {
        s.durations.push(DurationSpread {
            replica: r.text()?,
            full_sync: r.num()? as usize,
            ended: r.step()?,
            ms: r.nums()?,
        });
    }
    if !r.at_end() {
        return Err(r.error());
    }
    Ok(s)
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn new(text: &str) -> Reader<'_> {
        Reader { text, at: 0 }
    }

    fn at_end(&self) -> bool {
        self.at == self.text.len()
    }

    fn error(&self) -> String {
        format!("a worker's counts do not read at byte {}", self.at)
    }

    /// Digits up to `end`, then past it.
    fn digits(&mut self, end: char) -> Result<u64, String> {
        let rest = &self.text[self.at..];
        let n = rest.find(end).ok_or_else(|| self.error())?;
        let v = rest[..n].parse().map_err(|_| self.error())?;
        self.at += n + 1;
        Ok(v)
    }

    fn num(&mut self) -> Result<u64, String> {
        self.digits(' ')
    }

    /// A count, then that many numbers.
    fn nums(&mut self) -> Result<Vec<u64>, String> {
        let mut out = Vec::new();
        for _ in 0..self.num()? {
            out.push(self.num()?);
        }
        Ok(out)
    }

    fn text(&mut self) -> Result<String, String> {
        let len = self.digits(':')? as usize;
        let t = self
            .text
            .get(self.at..self.at.saturating_add(len))
            .ok_or_else(|| self.error())?;
        self.at += len;
        Ok(t.to_string())
    }

    fn step(&mut self) -> Result<Step, String> {
        let i = self.num()? as usize;
        STEPS.get(i).copied().ok_or_else(|| self.error())
    }
}

/// Which outcome (index into `spread.outcomes`) the run of `seed` had, when `seed` is the first
/// of the counted range (the page starts its range at the run on screen): each outcome keeps
/// its smallest seeds, so the first seed of the range is always among its outcome's.
pub fn outcome_of_first_seed(spread: &Spread, seed: u64) -> Option<usize> {
    spread.outcomes.iter().position(|o| o.seeds.contains(&seed))
}

/// The share of `runs` in `of`, in whole percent (rounded), for the bars' widths and words.
pub fn percent(runs: u64, of: u64) -> u64 {
    if of == 0 {
        return 0;
    }
    (runs * 100 + of / 2) / of
}

/// A sequence in people's words, repeats folded (`full sync, online, (full sync, cut off) ×3`),
/// through `word` so it can be translated. Uses the same folding as the CLI's text.
/// `none` is what an empty sequence reads as.
pub fn sequence_words(seq: &[Step], word: &dyn Fn(Step) -> &'static str, none: &str) -> String {
    if seq.is_empty() {
        return none.to_string();
    }
    // render_sequence folds on the short labels; map each label back to its words.
    let folded = crate::sim::spread::render_sequence(seq);
    let mut out = String::new();
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if !token.is_empty() {
            let step = Step::from_sequence_label(token);
            match (step, token.strip_prefix('x')) {
                (Some(s), _) => out.push_str(word(s)),
                (None, Some(n)) if n.chars().all(|c| c.is_ascii_digit()) => {
                    out.push('×');
                    out.push_str(n);
                }
                _ => out.push_str(token),
            }
            token.clear();
        }
    };
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn short_scenario() -> Scenario {
        let mut s = Scenario::preset("backlog-sized").expect("preset");
        // Near the backlog's boundary, so seeds differ (see docs/simulator.md).
        s.set("repl-backlog-size", "12mb").expect("backlog size");
        s
    }

    #[test]
    fn slices_of_any_size_count_what_run_seeds_counts() {
        let s = short_scenario();
        let whole = run_seeds(&s, 3..9, s.duration);
        // One seed per slice, then everything in one slice.
        for budget in [0usize, usize::MAX] {
            let mut job = SpreadJob::new(&s, 3, 6);
            let mut slices = 0;
            let mut last = 0;
            loop {
                let mut n = 0usize;
                let done = job.step(&mut || {
                    n += 1;
                    n > budget
                });
                slices += 1;
                let (done_runs, of) = job.progress();
                assert_eq!(of, 6);
                assert!(done_runs > last, "every slice runs at least one seed");
                last = done_runs;
                assert_eq!(job.spread().runs, done_runs);
                if done {
                    break;
                }
            }
            assert_eq!(slices, if budget == 0 { 6 } else { 1 });
            assert_eq!(job.seeds(), 3..9);
            assert_eq!(job.into_spread(), whole, "budget {budget}");
        }
    }

    #[test]
    fn chunks_cover_the_range_once_and_answers_merge_in_any_order() {
        let s = short_scenario();
        let sent = recipe(&s).expect("a recipe");
        let whole = run_seeds(&s, 3..10, s.duration);
        for size in [1, 2, 3, 7, 100] {
            let mut job = SpreadJob::new(&s, 3, 7);
            let mut chunks = Vec::new();
            while let Some(c) = job.hand_out(size) {
                assert!(!c.is_empty() && c.end - c.start <= size);
                chunks.push(c);
            }
            // Contiguous, in order, from the first seed to the last: each seed exactly once.
            assert_eq!(chunks.first().map(|c| c.start), Some(3));
            assert_eq!(chunks.last().map(|c| c.end), Some(10));
            assert!(chunks.windows(2).all(|w| w[0].end == w[1].start));
            assert!(!job.done(), "handed out is not counted");
            // The workers answer in any order, each answer crossing as text.
            for c in chunks.into_iter().rev() {
                let answer = run_chunk(&sent, c.start, c.end - c.start).expect("the chunk runs");
                job.add(decode(&answer).expect("a spread"));
            }
            assert!(job.done());
            assert_eq!(job.progress(), (7, 7));
            assert_eq!(job.into_spread(), whole, "chunks of {size}");
        }
        // At the top of the seed range: no overflow, the last seed is handed out.
        let mut job = SpreadJob::new(&s, u64::MAX - 2, 5);
        assert_eq!(job.hand_out(10), Some(u64::MAX - 2..u64::MAX));
        assert_eq!(job.hand_out(10), None);
    }

    #[test]
    fn every_preset_and_lesson_step_crosses_to_a_worker_unchanged() {
        let mut scenarios = Vec::new();
        for name in crate::sim::presets::preset_names() {
            let mut s = Scenario::preset(name).expect("preset");
            scenarios.push(s.clone());
            // A changed version and parameters, as the page's knobs make them.
            s.set("repl-backlog-size", "3mb").expect("backlog");
            s.set("version", "valkey-8.1").expect("version");
            s.set("workload.rate", "12345").expect("rate");
            scenarios.push(s);
        }
        for lesson in crate::web::lessons::LESSONS {
            for step in lesson.steps {
                scenarios.push(step.scenario().expect("the step's scenario"));
            }
        }
        for s in &scenarios {
            let recipe = recipe(s).unwrap_or_else(|| panic!("no recipe for {}", s.name));
            assert_eq!(from_recipe(&recipe).as_ref(), Ok(s), "{recipe}");
        }
        // Unchanged, a preset is its name alone.
        assert_eq!(
            recipe(&Scenario::preset("diskless-fix").unwrap()).as_deref(),
            Some("12:diskless-fix")
        );
        // What no parameter names does not cross: the page runs it.
        let mut s = Scenario::preset("disk-sync-loop").unwrap();
        s.set("links.1.bandwidth", "1mb")
            .expect("a per-link override");
        assert_eq!(recipe(&s), None);
        s.name = "no-such-preset".into();
        assert_eq!(recipe(&s), None);
        for bad in [
            "",
            "9:no-preset",
            "12:diskless-fix8:replicas",
            "12:diskless-fix8:replicas4:many",
        ] {
            let err = run_chunk(bad, 1, 1).unwrap_err();
            assert!(err.starts_with("bad scenario: "), "{bad}: {err}");
        }
    }

    #[test]
    fn counts_cross_as_text_and_back_and_bad_text_is_an_error() {
        for name in ["disk-sync-loop", "backlog-sized", "diskless-fix"] {
            let s = Scenario::preset(name).expect("preset");
            let spread = run_seeds(&s, 1..4, 120_000);
            assert!(!spread.durations.is_empty() || name == "backlog-sized");
            let text = encode(&spread);
            assert_eq!(decode(&text), Ok(spread), "{name}");
            for cut in [0, 1, text.len() / 2, text.len() - 1] {
                let err = decode(&text[..cut]).unwrap_err();
                assert!(err.contains("do not read at byte"), "{err}");
            }
            assert!(decode(&format!("{text}7 ")).is_err(), "trailing bytes");
        }
        // Names are counted in bytes, whatever they hold.
        let mut odd = Spread::default();
        odd.events.push(EventTally {
            replica: "réplica 1: \"x\" 9:".into(),
            event: String::new(),
            runs: 3,
        });
        assert_eq!(decode(&encode(&odd)), Ok(odd));
        assert!(decode("0 0 0 1 99:ab").is_err());
        assert!(
            decode("0 0 0 1 1:é").is_err(),
            "a text cut inside a character"
        );
    }

    #[test]
    fn about_sixteen_chunks_per_worker() {
        assert_eq!(chunk_size(100, 2), 3);
        assert_eq!(chunk_size(500, 2), 15);
        assert_eq!(chunk_size(20, 2), 1);
        assert_eq!(chunk_size(20, 0), 1);
    }

    #[test]
    fn the_run_on_screen_is_found_among_the_outcomes() {
        let s = short_scenario();
        for first in 1..5 {
            let spread = run_seeds(&s, first..first + 8, s.duration);
            let mut sim = crate::sim::Simulation::new(&s, first);
            sim.run_until(s.duration);
            let i = outcome_of_first_seed(&spread, first).expect("the first seed is listed");
            assert_eq!(spread.outcomes[i].outcome, sim.outcome(), "seed {first}");
        }
    }

    #[test]
    fn shares_and_words() {
        assert_eq!(percent(64, 100), 64);
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(2, 3), 67);
        assert_eq!(percent(0, 0), 0);
        let word = |s: Step| match s {
            Step::Full => "full sync",
            Step::Partial => "PSYNC accepted",
            Step::Online => "online",
            Step::ObufCut => "cut off",
            _ => "timed out",
        };
        use Step::*;
        assert_eq!(
            sequence_words(
                &[Full, Online, Full, ObufCut, Full, ObufCut, Full],
                &word,
                "no sync"
            ),
            "full sync, online, (full sync, cut off) ×2, full sync"
        );
        assert_eq!(
            sequence_words(&[Full, Online, Partial], &word, "no sync"),
            "full sync, online, PSYNC accepted"
        );
        assert_eq!(sequence_words(&[], &word, "no sync"), "no sync");
    }
}
