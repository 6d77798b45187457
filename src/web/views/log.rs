//! The Redis log of master and replicas, in Redis 7.0's own format. Clicking a line jumps to
//! that moment.

use crate::view::LogLine;
use crate::web::i18n::tr;
use crate::web::url::Lang;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LogProps {
    /// The lines to draw (the caller passes the newest ones up to now).
    pub lines: Vec<LogLine>,
    /// How many lines exist up to now in all.
    pub total: usize,
    pub now_ms: u64,
    pub lang: Lang,
    pub on_jump: Callback<u64>,
}

#[function_component(LogView)]
pub fn log_view(p: &LogProps) -> Html {
    let upto = p.total;
    let visible: Vec<&LogLine> = p.lines.iter().filter(|l| l.t_ms <= p.now_ms).collect();
    let rows = visible.iter().map(|l| {
        let t = l.t_ms;
        let on_jump = p.on_jump.clone();
        let onclick = Callback::from(move |_| on_jump.emit(t));
        let level = if l.line.contains(" # ") { "warn" } else { "notice" };
        html! {
            <li class={classes!("log-line", level)} data-t={t.to_string()}>
                <button type="button" {onclick} title={tr(p.lang, "Click a line to jump to that moment.")}>
                    <span class="node">{ &l.node }</span>{ &l.line }
                </button>
            </li>
        }
    });
    html! {
        <section class="log" data-testid="log" data-lines={upto.to_string()}>
            <h2>{ tr(p.lang, "Log") }<small>{ format!(" {} · {}", upto, tr(p.lang, "Click a line to jump to that moment.")) }</small></h2>
            <ol class="log-lines" reversed=true>{ for rows.rev() }</ol>
        </section>
    }
}
