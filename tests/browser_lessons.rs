//! The lessons in headless Chromium (needs `trunk build --release`): every lesson walked end to
//! end with the keyboard in English and in Chinese, each step's text and the state of the
//! stage part it points at checked against a native run of the same scenario (`lessons::arrive`,
//! the same code path the unit tests use), questions answered and their answer checked, tasks
//! done with the knobs; deep links; knob changes that keep the time; side by side's labels;
//! presenter mode and the handout. Screenshots of every step at 1280×720 go to the target
//! directory's `screenshots/` (and a few at 1920×1080).
#![cfg(not(target_arch = "wasm32"))]

mod support;
use replscope::sim::{self, Scenario};
use replscope::web::lessons::{self, fill::fill, script::state_of, Lesson, LESSONS};
use replscope::web::params;
use replscope::web::stage::Stage;
use replscope::web::url::{self, Lang};
use support::browser::{until, Page};

/// Steps play fast in these tests (the page's fastest speed): what is checked is where a step
/// stops, not how long it takes.
const SPEED: &str = "1000";

async fn phase(page: &Page) -> (String, String) {
    let v = page
        .exec("const c = document.querySelector('[data-testid=lesson]'); return c ? [c.dataset.step, c.dataset.phase] : ['', ''];")
        .await;
    (
        v[0].as_str().unwrap_or("").to_string(),
        v[1].as_str().unwrap_or("").to_string(),
    )
}

async fn wait_phase(page: &Page, step: usize, phases: &[&str], what: &str) -> String {
    let want = (step + 1).to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (s, p) = phase(page).await;
        if s == want && phases.contains(&p.as_str()) {
            return p;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: waited for step {want} in {phases:?}, saw step {s} {p}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Sets a knob beside the stage to `value`, as a learner would (slider, switch or list).
async fn turn_knob(page: &Page, name: &str, value: &str) {
    let css = format!("[data-knob-control='{name}']");
    let el = page.wait_for(&css).await;
    match el.tag_name().await.unwrap().as_str() {
        "button" => {
            if page.attr(&css, "aria-checked").await != (value == "yes").to_string() {
                page.click(&css).await;
            }
        }
        "select" => page.set_control(&css, value, "change").await,
        _ => {
            let all = sim::params();
            let spec = params::spec(name, &all).unwrap_or_else(|| panic!("no knob {name}"));
            let steps = params::steps(&spec);
            let v = params::numeric(&spec, value).unwrap();
            let pos = params::position(&steps, v);
            assert_eq!(
                params::text(&spec, steps[pos]),
                params::text(&spec, v),
                "{name}={value} is not a value its slider offers"
            );
            page.set_control(&css, &pos.to_string(), "change").await;
        }
    }
    let shown = format!("[data-knob='{name}'] [data-testid=knob-value]");
    until(&format!("{name} shows {value}"), || async {
        page.text(&shown).await == value
    })
    .await;
}

/// Walks `lesson` from its first step to its last with the keyboard, checking every step
/// against a native run.
async fn walk(page: &Page, lesson: &'static Lesson, lang: Lang) {
    let seed = 1;
    let q = format!(
        "lesson={}&step=1&speed={SPEED}&lang={}",
        lesson.id,
        lang.code()
    );
    page.client
        .goto(&format!("{}?{q}", page.base))
        .await
        .unwrap();
    page.wait_for("#app-ready").await;
    for (i, step) in lesson.steps.iter().enumerate() {
        let at = format!(
            "{} step {} ({}, {})",
            lesson.id,
            i + 1,
            step.title.en,
            lang.code()
        );
        if i > 0 {
            page.key("ArrowRight").await;
        }
        let (expect, _) = lessons::arrive(lesson, i, seed).unwrap_or_else(|e| panic!("{at}: {e}"));
        let stage = Stage::from_frame(&expect.sim.frame());
        // The first step of a link is arrived at; the others are entered and play.
        let p = wait_phase(page, i, &["arrived", "asking", "task", "playing"], &at).await;
        if let Some(qn) = &step.question {
            assert_eq!(
                p, "asking",
                "{at}: a question is asked before the step plays"
            );
            let shown = page.text("[data-testid=question] .ask strong").await;
            assert_eq!(
                shown.trim(),
                fill(qn.ask.get(lang), &stage, expect.sim.scenario()).trim(),
                "{at}"
            );
            page.key(&(qn.answer + 1).to_string()).await;
            wait_phase(page, i, &["revealed"], &at).await;
            assert_eq!(
                page.attr("[data-testid=why-answer]", "data-right").await,
                (qn.answer + 1).to_string(),
                "{at}: the answer shown"
            );
            let right = page.text(".choice.right").await;
            assert!(
                right.contains(
                    fill(
                        qn.choices[qn.answer].get(lang),
                        &stage,
                        expect.sim.scenario()
                    )
                    .trim()
                ),
                "{at}: the right choice is marked: {right}"
            );
            assert!(
                page.text("[data-testid=why-answer]")
                    .await
                    .starts_with(if lang == Lang::En {
                        "Right."
                    } else {
                        "答对了"
                    }),
                "{at}: a right answer is said to be right"
            );
        } else if let Some(task) = &step.task {
            assert_eq!(p, "task", "{at}: a task waits for the learner");
            for pair in task.solutions[0] {
                let (n, v) = lessons::change(pair);
                turn_knob(page, n, v).await;
            }
            page.click("[data-testid=try]").await;
            wait_phase(page, i, &["tried"], &at).await;
            assert_eq!(
                page.attr("[data-testid=task-outcome]", "data-outcome")
                    .await,
                "done",
                "{at}: the first solution reaches the goal"
            );
        } else {
            wait_phase(page, i, &["arrived"], &at).await;
        }
        // Where the step stops, the page shows what the native run shows.
        assert_eq!(page.now_ms().await, expect.now_ms(), "{at}: the moment");
        let text = page.text("[data-testid=lesson-text]").await;
        assert_eq!(
            text.trim(),
            fill(step.caption.get(lang), &stage, expect.sim.scenario()).trim(),
            "{at}: the step's text"
        );
        let state = state_of(&stage, step.point);
        assert_eq!(state.as_deref(), Some(step.shows), "{at}: native run");
        let part = format!("svg.stage [data-part='{}']", step.point);
        assert_eq!(
            page.attr(&part, "data-state").await,
            step.shows,
            "{at}: {} on the page",
            step.point
        );
        assert!(
            page.attr(&part, "class").await.contains("hl"),
            "{at}: the stage points at {}",
            step.point
        );
        assert_eq!(
            page.text("[data-testid=step-count]").await,
            format!("{} / {}", i + 1, lesson.steps.len()),
            "{at}"
        );
        // The knobs that matter, each with its value.
        let knobs = page
            .exec("return [...document.querySelectorAll('[data-testid=knobs] [data-knob]')].map(k => k.dataset.knob)")
            .await;
        let knobs: Vec<&str> = knobs
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(knobs, step.knobs, "{at}: the knobs");
        // The address is a deep link to this step.
        let href = page.exec("return location.search").await;
        assert!(
            href.as_str()
                .unwrap()
                .contains(&format!("lesson={}&step={}", lesson.id, i + 1)),
            "{at}: the link {href}"
        );
        if lang == Lang::En {
            page.screenshot(&format!("lesson-{}-{:02}", lesson.id, i + 1))
                .await;
        } else if i == 0 || step.question.is_some() {
            page.screenshot(&format!("lesson-{}-{:02}-zh", lesson.id, i + 1))
                .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_lesson_walks_end_to_end_with_the_keyboard_in_english() {
    let page = Page::open("lesson=first-sync&step=1").await;
    page.resize(1280, 720).await;
    for lesson in LESSONS {
        walk(&page, lesson, Lang::En).await;
    }
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_lesson_walks_end_to_end_with_the_keyboard_in_chinese() {
    let page = Page::open("lesson=first-sync&step=1&lang=zh").await;
    page.resize(1280, 720).await;
    for lesson in LESSONS {
        walk(&page, lesson, Lang::Zh).await;
    }
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_links_open_at_their_step_and_bad_ones_are_named() {
    // The bare address opens the first lesson's first step.
    let page = Page::open("").await;
    assert_eq!(
        page.attr("[data-testid=lesson]", "data-lesson").await,
        LESSONS[0].id
    );
    assert_eq!(page.attr("[data-testid=lesson]", "data-step").await, "1");
    for (lesson, i) in [(&LESSONS[1], 2usize), (&LESSONS[3], 5), (&LESSONS[5], 1)] {
        let step = &lesson.steps[i];
        page.client
            .goto(&format!(
                "{}?lesson={}&step={}",
                page.base,
                lesson.id,
                i + 1
            ))
            .await
            .unwrap();
        page.wait_for("#app-ready").await;
        let card = "[data-testid=lesson]";
        assert_eq!(page.attr(card, "data-lesson").await, lesson.id);
        assert_eq!(page.attr(card, "data-step").await, (i + 1).to_string());
        // A link arrives at the step: a plain step stands where it stops, a question waits
        // at its start.
        let (run, from) = lessons::arrive(lesson, i, 1).unwrap();
        let want = if step.question.is_some() || step.task.is_some() {
            from
        } else {
            run.now_ms()
        };
        assert_eq!(page.now_ms().await, want, "{} step {}", lesson.id, i + 1);
    }
    // Bad values are named and replaced: an unknown lesson, a step out of range.
    page.client
        .goto(&format!("{}?lesson=nope&step=3", page.base))
        .await
        .unwrap();
    page.wait_for("#app-ready").await;
    let notices = page.text("[data-testid=notices]").await;
    assert!(notices.contains("lesson"), "{notices}");
    let n = LESSONS[0].steps.len();
    page.client
        .goto(&format!(
            "{}?lesson={}&step={}",
            page.base,
            LESSONS[0].id,
            n + 5
        ))
        .await
        .unwrap();
    page.wait_for("#app-ready").await;
    let notices = page.text("[data-testid=notices]").await;
    assert!(notices.contains("step"), "{notices}");
    assert_eq!(page.attr("[data-testid=lesson]", "data-step").await, "1");
    page.close().await;
}

/// A wrong prediction is marked wrong, the right choice is shown with why, and the run plays to
/// the moment that proves it.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_prediction_is_corrected_by_the_run() {
    let (lesson, i, q) = LESSONS
        .iter()
        .flat_map(|l| l.steps.iter().enumerate().map(move |(i, s)| (l, i, s)))
        .find_map(|(l, i, s)| s.question.as_ref().map(|q| (l, i, q)))
        .expect("a lesson asks a question");
    let wrong = (q.answer + 1) % q.choices.len();
    let page = Page::open(&format!(
        "lesson={}&step={}&speed={SPEED}",
        lesson.id,
        i + 1
    ))
    .await;
    wait_phase(&page, i, &["asking"], "a question waits").await;
    let (run, from) = lessons::arrive(lesson, i, 1).unwrap();
    assert_eq!(page.now_ms().await, from, "asked before the step plays");
    page.key(&(wrong + 1).to_string()).await;
    wait_phase(&page, i, &["revealed"], "answered").await;
    assert_eq!(
        page.now_ms().await,
        run.now_ms(),
        "played to the step's stop"
    );
    assert_eq!(
        page.attr(".choice.wrong", "data-choice").await,
        (wrong + 1).to_string()
    );
    assert_eq!(
        page.attr(".choice.right", "data-choice").await,
        (q.answer + 1).to_string()
    );
    let why = page.text("[data-testid=why-answer]").await;
    assert!(
        why.starts_with(&format!("Not quite: the answer is {}.", q.answer + 1)),
        "{why}"
    );
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prev_next_contents_and_free_play() {
    let l = &LESSONS[1];
    let page = Page::open(&format!("lesson={}&step=2&speed={SPEED}", l.id)).await;
    page.key("ArrowLeft").await;
    wait_phase(&page, 0, &["arrived"], "Prev").await;
    let (run, _) = lessons::arrive(l, 0, 1).unwrap();
    assert_eq!(
        page.now_ms().await,
        run.now_ms(),
        "Prev shows the step where it stops"
    );
    // The table of contents, by keyboard, opens any step of any lesson.
    page.key("l").await;
    page.wait_for("[data-testid=contents]").await;
    let target = &LESSONS[2];
    page.click(&format!(
        "[data-testid=contents] [data-lesson='{}'] [data-step='3']",
        target.id
    ))
    .await;
    until("the contents open lesson 3 step 3", || async {
        page.attr("[data-testid=lesson]", "data-lesson").await == target.id
    })
    .await;
    wait_phase(&page, 2, &["arrived", "asking", "task"], "contents").await;
    // Free play and back.
    page.click("[data-testid=leave]").await;
    page.wait_for("[data-testid=return]").await;
    page.wait_for("[data-testid=preset-select]").await;
    page.click("[data-testid=return]").await;
    wait_phase(&page, 2, &["arrived", "asking", "task"], "back to the step").await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_knob_change_keeps_the_current_time() {
    let page = Page::open("preset=disk-sync-loop&t=30000").await;
    assert_eq!(page.now_ms().await, 30_000);
    let guide = lessons::guide("disk-sync-loop").unwrap();
    let knobs = page
        .exec("return [...document.querySelectorAll('[data-testid=knobs] [data-knob]')].map(k => k.dataset.knob)")
        .await;
    assert_eq!(knobs.as_array().unwrap().len(), guide.knobs.len());
    turn_knob(&page, "client-output-buffer-limit.hard", "1gb").await;
    assert_eq!(page.now_ms().await, 30_000, "the clock is not reset");
    let q = page.exec("return location.search").await;
    let q = q.as_str().unwrap();
    assert!(
        q.contains("e=30000.p.client-output-buffer-limit.hard%3D1gb"),
        "{q}"
    );
    // The run from the link has the change at the same moment: the same as natively.
    let s = Scenario::preset("disk-sync-loop").unwrap();
    let mut run = replscope::web::run::Run::new(&s, 1);
    run.seek(30_000);
    run.edit(replscope::web::run::Edit::Set(
        "client-output-buffer-limit.hard".into(),
        "1gb".into(),
    ))
    .unwrap();
    run.seek(120_000);
    page.set_control("[data-testid=scrub]", "120000", "input")
        .await;
    until("seek to 2:00", || async { page.now_ms().await == 120_000 }).await;
    let stage = Stage::from_frame(&run.sim.frame());
    for (part, state) in stage.parts() {
        if page
            .exec(&format!(
                "return !!document.querySelector(\"svg.stage [data-part='{part}']\")"
            ))
            .await
            == true
        {
            assert_eq!(
                page.attr(&format!("svg.stage [data-part='{part}']"), "data-state")
                    .await,
                state,
                "{part}"
            );
        }
    }
    page.screenshot("knob-forked-1gb").await;
    // The slider offers round Redis sizes only.
    let all = sim::params();
    let spec = params::spec("client-output-buffer-limit.hard", &all).unwrap();
    let max = page
        .attr(
            "[data-knob-control='client-output-buffer-limit.hard']",
            "max",
        )
        .await;
    assert_eq!(max, (params::steps(&spec).len() - 1).to_string());
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn side_by_side_labels_both_sides_with_what_differs() {
    // backlog-too-small compares with a larger backlog, not with diskless sync.
    let page = Page::open("preset=backlog-too-small&view=compare&tab=compare&t=20000").await;
    page.resize(1280, 720).await;
    let a = page.text("[data-testid=caption] .ab").await;
    let b = page.text("[data-testid=caption-b] .ab").await;
    let s = Scenario::preset("backlog-too-small").unwrap();
    let guide = lessons::guide("backlog-too-small").unwrap();
    let (n, v) = lessons::change(guide.compare[0]);
    assert_eq!(a, format!("A · {n} {}", s.get(n).unwrap()));
    assert_eq!(b, format!("B · {n} {v}"));
    assert_eq!(page.text("[data-testid=label-b]").await, b);
    page.screenshot("compare-backlog-too-small").await;
    // Any setting, from the UI.
    page.set_control("[data-testid=compare-name]", "repl-diskless-sync", "change")
        .await;
    page.set_control("[data-testid=compare-value]", "yes", "change")
        .await;
    page.click("[data-testid=compare-apply]").await;
    until("B is diskless", || async {
        page.text("[data-testid=caption-b] .ab").await == "B · repl-diskless-sync yes"
    })
    .await;
    assert_eq!(
        page.text("[data-testid=caption] .ab").await,
        "A · repl-diskless-sync no"
    );
    let q = page.exec("return location.search").await;
    assert!(
        q.as_str()
            .unwrap()
            .contains(&format!("cmp={}", url::encode("repl-diskless-sync=yes"))),
        "{q}"
    );
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn presenter_mode_walks_with_arrows_and_blanks_the_stage() {
    let l = &LESSONS[0];
    let page = Page::open(&format!("lesson={}&step=1&present=1&speed={SPEED}", l.id)).await;
    for (w, h) in [(1280, 720), (1920, 1080)] {
        page.resize(w, h).await;
        let fits = page
            .exec("return document.querySelector('[data-testid=deck]').getBoundingClientRect().bottom <= innerHeight && document.documentElement.scrollWidth <= innerWidth")
            .await;
        assert_eq!(
            fits, true,
            "{w}x{h}: the presenter's stage and text fit the screen"
        );
        page.screenshot(&format!("present-{w}x{h}")).await;
    }
    let hidden = page
        .exec("return !document.querySelector('[data-testid=tabs]') && getComputedStyle(document.querySelector('[data-testid=knobs]')).display == 'none'")
        .await;
    assert_eq!(hidden, true, "presenter mode hides the parameters");
    page.key("ArrowRight").await;
    wait_phase(&page, 1, &["arrived"], "presenter Next").await;
    page.key("b").await;
    page.wait_for("[data-testid=blank]").await;
    page.key("b").await;
    page.wait_for("svg.stage").await;
    page.key("ArrowLeft").await;
    wait_phase(&page, 0, &["arrived"], "presenter Prev").await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_handout_holds_every_step_in_both_languages() {
    for l in [&LESSONS[0], &LESSONS[3]] {
        let page = Page::open(&format!("lesson={}&handout=1", l.id)).await;
        page.resize(1280, 720).await;
        page.wait_for("[data-testid=handout]").await;
        let figures = page
            .exec("return [...document.querySelectorAll('.handout-step')].map(f => [f.querySelector('[data-testid=handout-en]')?.innerText, f.querySelector('[data-testid=handout-zh]')?.innerText, !!f.querySelector('svg.stage')])")
            .await;
        let figures = figures.as_array().unwrap();
        assert_eq!(figures.len(), l.steps.len());
        for (i, (step, f)) in l.steps.iter().zip(figures).enumerate() {
            let (run, _) = lessons::arrive(l, i, 1).unwrap();
            let stage = Stage::from_frame(&run.sim.frame());
            assert_eq!(
                f[0].as_str().unwrap().trim(),
                fill(step.caption.en, &stage, run.sim.scenario()).trim(),
                "{} step {}",
                l.id,
                i + 1
            );
            assert_eq!(
                f[1].as_str().unwrap().trim(),
                fill(step.caption.zh, &stage, run.sim.scenario()).trim(),
                "{} step {}",
                l.id,
                i + 1
            );
            assert_eq!(f[2], true, "step {} has its stage", i + 1);
        }
        // Printed, it fits on one page.
        page.screenshot(&format!("handout-{}", l.id)).await;
        // And back to the lesson, at its first step.
        page.click("[data-testid=handout-back]").await;
        page.wait_for("[data-testid=lesson][data-step='1']").await;
        let search = page.exec("return location.search").await;
        assert!(!search.as_str().unwrap().contains("handout"), "{search}");
        page.close().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_screen_fits_with_a_lesson_at_both_sizes() {
    let page = Page::open("lesson=incident&step=6").await;
    for (w, h) in [(1280, 720), (1920, 1080)] {
        page.resize(w, h).await;
        let v = page
            .exec("const r = s => document.querySelector(s).getBoundingClientRect(); return [document.documentElement.scrollWidth, innerWidth, r('svg.stage').bottom, r('[data-testid=deck]').bottom, innerHeight]")
            .await;
        let v: Vec<f64> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert!(v[0] <= v[1], "{w}x{h}: horizontal overflow");
        assert!(
            v[2] <= v[4] && v[3] <= v[4],
            "{w}x{h}: the stage and the lesson card fit the screen: {v:?}"
        );
        page.screenshot(&format!("lesson-incident-06-{w}x{h}"))
            .await;
    }
    page.close().await;
}
