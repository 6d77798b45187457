//! The version a run plays, on the page: the selector beside the preset, and side by side's
//! "B runs on" another version.

use super::app::Dispatch;
use super::i18n::tr;
use super::model::{Action, Model};
use super::panels::select_value;
use super::versions;
use crate::core::version::Version;
use yew::prelude::*;

fn options(selected: Version) -> Html {
    Version::ALL
        .iter()
        .map(|v| html! { <option value={v.name()} selected={*v == selected}>{ v.display_name() }</option> })
        .collect()
}

/// The version every node plays; changing it runs the scenario again with that version's
/// defaults.
pub fn selector(m: &Model, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let onchange = d.reform(|e: Event| Action::SetVersion(select_value(&e)));
    html! {
        <select {onchange} class="version-select" data-testid="version-select" aria-label={tr(lang, "Version")}
                title={tr(lang, "Version")}>
            { options(m.scenario.version) }
        </select>
    }
}

/// Side by side: B plays another version, everything else the same.
pub fn compare_chooser(m: &Model, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let b = m.cmp.as_ref().map(|c| c.sim.scenario());
    let b_version = b.map_or(m.scenario.version, |s| s.version);
    let onchange =
        d.reform(|e: Event| Action::SetCompare(vec![("version".into(), select_value(&e))]));
    let hint = b
        .filter(|s| versions::unused_channel(s.version, s.redis.repl_diskless_sync))
        .cloned();
    html! {
        <span class="compare-version">
            <label>
                <strong>{ tr(lang, "B runs on") }{ ": " }</strong>
                <select {onchange} data-testid="compare-version" aria-label={tr(lang, "B runs on")}>
                    { options(b_version) }
                </select>
            </label>
            if let Some(s) = hint {
                { " " }
                <button type="button" class="link" data-testid="compare-version-hint"
                        onclick={d.reform(move |_| Action::SetCompare(vec![("version".into(), s.version.name().into()), ("repl-diskless-sync".into(), "yes".into())]))}>
                    { tr(lang, "Redis 8.2 opens its RDB channel only for a diskless sync: compare with repl-diskless-sync=yes too") }
                </button>
            }
        </span>
    }
}
