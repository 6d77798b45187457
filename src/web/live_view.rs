//! Live mode in the page: a WebSocket to a `replscope server` live feed, and the same views
//! drawn from it, with the simulation's timeline above the live one on one time axis.

use super::app::{log_tail, Dispatch};
use super::i18n::tr;
use super::model::{Action, Model};
use super::stage::Stage;
use super::views::{
    buffers::BufferBars, chart::Chart, log::LogView, ring::BacklogRing, stage::StageView,
    timeline::Timeline,
};
use crate::web::format::decimate;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, WebSocket};
use yew::prelude::*;

/// An open feed socket; closing it (and dropping its callbacks) on drop.
pub struct LiveSocket {
    ws: WebSocket,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
    _on_close: Closure<dyn FnMut(web_sys::Event)>,
}

impl LiveSocket {
    pub fn open(url: &str, dispatch: Dispatch) -> Option<LiveSocket> {
        let ws = match WebSocket::new(url) {
            Ok(ws) => ws,
            Err(_) => {
                dispatch.emit(Action::LiveStatus(
                    false,
                    Some(format!("cannot open a WebSocket to {url}")),
                ));
                return None;
            }
        };
        let d = dispatch.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(text) = e.data().as_string() {
                d.emit(Action::LiveMessage(text));
            }
        });
        let d = dispatch.clone();
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            d.emit(Action::LiveStatus(true, None))
        });
        let d = dispatch;
        let target = url.to_string();
        let on_close = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            d.emit(Action::LiveStatus(
                false,
                Some(format!(
                    "the live feed at {target} closed or could not be reached"
                )),
            ))
        });
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Some(LiveSocket {
            ws,
            _on_message: on_message,
            _on_open: on_open,
            _on_close: on_close,
        })
    }
}

impl Drop for LiveSocket {
    fn drop(&mut self) {
        self.ws.set_onmessage(None);
        self.ws.set_onopen(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

/// The "Live" tab: the connect form, then the live server drawn with the simulator's views
/// (its stage, buffers, the simulation's and the live timeline on one time axis, chart, log).
pub fn live_tab(m: &Model, d: &Dispatch) -> Html {
    let lang = m.st.lang;
    let current = m
        .live
        .as_ref()
        .map(|l| l.url.clone())
        .unwrap_or_else(|| "ws://127.0.0.1:6381/".into());
    let input = NodeRef::default();
    let password = NodeRef::default();
    let connect = {
        let input = input.clone();
        let password = password.clone();
        d.reform(move |_: MouseEvent| {
            let value = |r: &NodeRef| {
                r.cast::<web_sys::HtmlInputElement>()
                    .map(|i| i.value())
                    .unwrap_or_default()
            };
            // The password travels as the socket's `token=` (URL-encoded by `socket_url`),
            // kept in memory only: the page's link never carries it.
            let url = value(&input);
            let token = value(&password);
            Action::Live(Some(if token.is_empty() {
                url
            } else {
                super::live::socket_url(&url, Some(&token))
            }))
        })
    };
    html! {
        <>
            <p class="live-form" data-testid="live-form">
                <label>{ tr(lang, "Live feed of a replscope server") }{ " " }
                    <input type="text" ref={input} value={current} size="26" data-testid="live-url"/>
                </label>
                { " " }
                <label>{ tr(lang, "Password (requirepass)") }{ " " }
                    <input type="password" ref={password} size="12" autocomplete="off" data-testid="live-password"
                           disabled={m.live.is_some()} placeholder={if m.live_token.is_some() { "••••" } else { "" }}/>
                </label>
                { " " }
                if m.live.is_some() {
                    <button type="button" onclick={d.reform(|_| Action::Live(None))} data-testid="live-disconnect">{ tr(lang, "Disconnect") }</button>
                } else {
                    <button type="button" onclick={connect} data-testid="live-connect">{ tr(lang, "Connect") }</button>
                }
            </p>
            { live_section(m, d) }
        </>
    }
}

fn live_section(m: &Model, d: &Dispatch) -> Html {
    let Some(live) = m.live.as_ref() else {
        return html! {};
    };
    let lang = m.st.lang;
    let status = match (&live.error, live.connected) {
        (Some(e), _) => e.clone(),
        (None, true) => format!("{} · {} frames", tr(lang, "connected"), live.frames_seen),
        (None, false) => tr(lang, "connecting…").to_string(),
    };
    let Some(frame) = live.frame.clone() else {
        return html! {
            <section class="live" data-testid="live" data-frames="0">
                <h2>{ tr(lang, "Live server") }<small>{ format!(" {} — {status}", live.url) }</small></h2>
            </section>
        };
    };
    let now = live.now_ms();
    let names: Vec<String> = frame.replicas.iter().map(|r| r.name.clone()).collect();
    let end = now.max(m.end_ms());
    let (soft, hard) = frame
        .replicas
        .first()
        .map(|r| (r.soft_limit, r.hard_limit))
        .unwrap_or((0, 0));
    let sim_names: Vec<String> = m
        .main
        .sim
        .frame()
        .replicas
        .iter()
        .map(|r| r.name.clone())
        .collect();
    html! {
        <section class="live" data-testid="live" data-frames={live.frames_seen.to_string()} data-replicas={frame.replicas.len().to_string()}>
            <h2>{ tr(lang, "Live server") }<small>{ format!(" {} — {status}", live.url) }</small></h2>
            <StageView stage={Stage::from_frame(&frame)} {lang}/>
            <div class="grid">
                <BacklogRing master={frame.master.clone()} replicas={frame.replicas.clone()} {lang} title={" — live"}/>
                <BufferBars replicas={frame.replicas.clone()} now_ms={now} {lang}/>
            </div>
            <h3>{ tr(lang, "Simulation and live run on one time axis") }</h3>
            <Timeline names={sim_names} spans={m.main.sim.spans().to_vec()} marks={m.main.sim.marks().to_vec()}
                      now_ms={m.now_ms()} end_ms={end} {lang} on_seek={d.reform(Action::Seek)} label={" — simulation"}/>
            <Timeline names={names.clone()} spans={live.spans.clone()} marks={live.marks.clone()}
                      now_ms={now} end_ms={end} {lang} on_seek={Callback::noop()} label={" — live"}/>
            <Chart samples={decimate(&live.samples, now, 450)} {names} {soft} {hard} now_ms={now} end_ms={now.max(1000)} {lang}/>
            <LogView lines={log_tail(&live.log, u64::MAX)} total={live.log.len()} now_ms={u64::MAX} {lang} on_jump={Callback::noop()}/>
        </section>
    }
}
