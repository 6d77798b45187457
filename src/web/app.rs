//! The Yew application (wasm32 only). A first page until the simulator lands.

use yew::prelude::*;

#[function_component(App)]
pub fn app() -> Html {
    html! {
        <main class="app" id="app-ready">
            <h1>{ "ReplScope" }</h1>
            <p>{ "See how Redis replication works." }</p>
        </main>
    }
}

/// Entry point of the web build.
pub fn start() {
    console_error_panic_hook::set_once();
    yew::Renderer::<App>::new().render();
}

/// Renders the app into `host` (used by the in-browser component tests).
pub fn render_into(host: web_sys::Element) -> yew::AppHandle<App> {
    yew::Renderer::<App>::with_root(host).render()
}
