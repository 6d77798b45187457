//! Buffer sizes and the backlog over time, against the soft and hard limits.

use crate::view::Sample;
use crate::web::format::{bytes, clock, nice_bytes_ceiling};
use crate::web::i18n::tr;
use crate::web::url::Lang;
use std::fmt::Write as _;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ChartProps {
    pub samples: Vec<Sample>,
    pub names: Vec<String>,
    pub soft: u64,
    pub hard: u64,
    pub now_ms: u64,
    pub end_ms: u64,
    pub lang: Lang,
}

const W: f64 = 900.0;
const H: f64 = 200.0;
const LEFT: f64 = 70.0;
/// Dash patterns so the lines differ by more than colour.
const DASHES: [&str; 8] = ["", "6 3", "2 3", "10 3 2 3", "1 2", "8 2", "4 4", "12 4"];

#[function_component(Chart)]
pub fn chart(p: &ChartProps) -> Html {
    let lang = p.lang;
    let shown: Vec<&Sample> = p.samples.iter().filter(|s| s.t_ms <= p.now_ms).collect();
    let top = shown
        .iter()
        .flat_map(|s| s.obuf_bytes.iter().copied().chain([s.backlog_histlen]))
        .chain([p.hard, p.soft])
        .max()
        .unwrap_or(1);
    let top = nice_bytes_ceiling(top.max(1)) as f64;
    let end = p.end_ms.max(p.now_ms).max(1000) as f64;
    let x = |t: u64| LEFT + t as f64 / end * (W - LEFT);
    let y = |v: u64| H - 16.0 - v as f64 / top * (H - 26.0);
    let line = |value: &dyn Fn(&Sample) -> u64| {
        let mut d = String::new();
        for (i, s) in shown.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1} {:.1} ",
                if i == 0 { "M" } else { "L" },
                x(s.t_ms),
                y(value(s))
            );
        }
        d
    };
    let backlog = line(&|s| s.backlog_histlen);
    let replicas = p.names.iter().enumerate().map(|(i, name)| {
        let d = line(&|s| s.obuf_bytes.get(i).copied().unwrap_or(0));
        html! { <path d={d} class={format!("series r{}", i % 8)} stroke-dasharray={DASHES[i % 8]}><title>{ name }</title></path> }
    });
    let limit = |v: u64, class: &'static str, label: String| {
        (v > 0).then(|| html! {
            <g class={classes!("limit", class)}>
                <line x1={LEFT.to_string()} x2={W.to_string()} y1={format!("{:.1}", y(v))} y2={format!("{:.1}", y(v))}/>
                <text x={(W - 4.0).to_string()} y={format!("{:.1}", y(v) - 3.0)} class="end">{ label }</text>
            </g>
        })
    };
    html! {
        <figure class="chart" data-testid="chart" data-points={shown.len().to_string()}>
            <svg viewBox={format!("0 0 {W} {H}")} role="img" aria-label={tr(lang, "Buffers and backlog over time")}>
                <text x="2" y="12" class="tick">{ bytes(top as u64) }</text>
                <text x="2" y={(H - 16.0).to_string()} class="tick">{ "0" }</text>
                <text x={LEFT.to_string()} y={(H - 2.0).to_string()} class="tick">{ "0:00.0" }</text>
                <text x={W.to_string()} y={(H - 2.0).to_string()} class="tick end">{ clock(end as u64) }</text>
                { limit(p.soft, "soft", format!("{} {}", tr(lang, "soft"), bytes(p.soft))) }
                { limit(p.hard, "hard", format!("{} {}", tr(lang, "hard"), bytes(p.hard))) }
                <path d={backlog} class="series backlog"><title>{ "repl_backlog_histlen" }</title></path>
                { for replicas }
            </svg>
            <figcaption>
                { tr(lang, "Buffers and backlog over time") }
                <span class="legend">
                    { sample("series backlog", "", "repl_backlog_histlen".to_string()) }
                    { for p.names.iter().enumerate().map(|(i, n)| sample(&format!("series r{}", i % 8), DASHES[i % 8], format!("{n} omem"))) }
                    if p.soft > 0 { { sample("limit soft", "5 3", format!("{} {}", tr(lang, "soft"), bytes(p.soft))) } }
                    if p.hard > 0 { { sample("limit hard", "", format!("{} {}", tr(lang, "hard"), bytes(p.hard))) } }
                </span>
            </figcaption>
        </figure>
    }
}

/// A legend entry: a short stretch of the series' own line (colour and dash) and its name.
fn sample(class: &str, dash: &'static str, name: String) -> Html {
    html! {
        <span class="sample">
            <svg viewBox="0 0 30 10" aria-hidden="true"><line x1="0" y1="5" x2="30" y2="5" class={class.to_string()} stroke-dasharray={dash} stroke-width="3"/></svg>
            { name }
        </span>
    }
}
