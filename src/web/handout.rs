//! The printable one-page handout of a lesson (wasm only): each step's stage at its moment as
//! SVG (vectors print sharp at any size), its text in English and Chinese, and its question
//! with the answer. The page's print style fits it on one landscape A4 sheet.

use super::app::Dispatch;
use super::i18n::tr;
use super::lessons::{self, fill::fill, Lesson};
use super::model::Action;
use super::stage::Stage;
use super::tour::Nav;
use super::url::Lang;
use super::views::stage::StageView;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct HandoutProps {
    pub lesson: &'static Lesson,
    pub seed: u64,
    pub lang: Lang,
    pub dispatch: Dispatch,
}

/// One step as the handout shows it: its stage where it stops, or why it could not be played.
type Figure = Result<(Stage, crate::sim::Scenario), String>;

#[function_component(Handout)]
pub fn handout(p: &HandoutProps) -> Html {
    let lesson = p.lesson;
    let figures: std::rc::Rc<Vec<Figure>> = use_memo((lesson.id, p.seed), |(_, seed)| {
        (0..lesson.steps.len())
            .map(|i| {
                lessons::arrive(lesson, i, *seed).map(|(run, _)| {
                    (
                        Stage::from_frame(&run.sim.frame()),
                        run.sim.scenario().clone(),
                    )
                })
            })
            .collect()
    });
    let lang = p.lang;
    let print = Callback::from(|_: MouseEvent| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    });
    let back = p.dispatch.reform(|_| Action::Lesson(Nav::Return));
    let steps = lesson.steps.iter().zip(figures.iter()).enumerate().map(|(i, (s, fig))| {
        let body = match fig {
            Ok((stage, scenario)) => {
                let text = |l: Lang| fill(s.caption.get(l), stage, scenario);
                let q = s.question.as_ref().map(|q| {
                    let ans = |l: Lang| {
                        format!(
                            "{} → {}",
                            fill(q.ask.get(l), stage, scenario),
                            fill(q.choices[q.answer].get(l), stage, scenario)
                        )
                    };
                    html! { <><p class="q" lang="en">{ ans(Lang::En) }</p><p class="q" lang="zh-CN">{ ans(Lang::Zh) }</p></> }
                });
                html! {
                    <>
                        <StageView stage={stage.clone()} {lang} highlight={Some(s.point.to_string())}/>
                        <p lang="en" data-testid="handout-en">{ text(Lang::En) }</p>
                        <p lang="zh-CN" data-testid="handout-zh">{ text(Lang::Zh) }</p>
                        { q }
                    </>
                }
            }
            Err(e) => html! { <p class="notices">{ e.clone() }</p> },
        };
        html! {
            <figure class="handout-step" data-step={(i + 1).to_string()}>
                <figcaption><strong>{ format!("{}. {}", i + 1, s.title.en) }</strong>{ format!(" · {}", s.title.zh) }</figcaption>
                { body }
            </figure>
        }
    });
    html! {
        <main class="handout" id="app-ready" data-testid="handout" data-lesson={lesson.id} data-steps={lesson.steps.len().to_string()}>
            <header>
                <h1>{ format!("ReplScope · {} · {}", lesson.title.en, lesson.title.zh) }</h1>
                <p class="summary"><span lang="en">{ lesson.summary.en }</span>{ " " }<span lang="zh-CN">{ lesson.summary.zh }</span></p>
                <p class="no-print">
                    <button type="button" class="primary" onclick={print} data-testid="print">{ tr(lang, "Print") }</button>{ " " }
                    <button type="button" onclick={back} data-testid="handout-back">{ tr(lang, "Back to the lesson") }</button>
                </p>
            </header>
            <div class="handout-grid">{ for steps }</div>
        </main>
    }
}
