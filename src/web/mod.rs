//! The teaching web app (wasm32 only), built by trunk.

use yew::prelude::*;

#[function_component(App)]
fn app() -> Html {
    html! {
        <main class="app">
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
