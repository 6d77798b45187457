//! The live feed's connection handler (`server::live::serve_connection`): HTTP parsed by
//! hyper, our admission checks, and after an upgrade WebSocket frames read by tungstenite.
//! Any bytes from a client: no panic, and the connection ends once the client has gone.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use replscope::server::driver::Shared;
use replscope::server::engine::Engine;
use replscope::server::live::{serve_connection, Policy};
use replscope::server::log::Logger;
use replscope::server::{config_from_args, seam};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct World {
    rt: tokio::runtime::Runtime,
    sh: Shared,
    policy: Arc<Policy>,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        // Paused time: timers (request timeout, the feed's ticks) fire as soon as all is idle.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("runtime");
        let sh = rt.block_on(async {
            let args: Vec<String> = ["--port", "6390", "--loglevel", "warning", "--save", ""]
                .iter()
                .map(|s| s.to_string())
                .collect();
            let cfg = config_from_args(&args).expect("config");
            let log = Arc::new(Logger::new("/dev/null").expect("/dev/null"));
            let mut e = Engine::new(cfg, log, replscope::server::commands::apply_from_master).expect("engine");
            e.init_core(6390, None).expect("core");
            seam::pump(&mut e);
            Shared::new(e).0
        });
        let policy = Arc::new(Policy {
            allow_origins: vec!["http://127.0.0.1:8080".into()],
            loopback: true,
        });
        World { rt, sh, policy }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    w.rt.block_on(async {
        let (client, server) = tokio::io::duplex(1 << 16);
        let task = tokio::spawn(serve_connection(w.sh.clone(), w.policy.clone(), server, None));
        let (mut rd, mut wr) = tokio::io::split(client);
        let reader = tokio::spawn(async move {
            let mut out = Vec::new();
            let _ = rd.read_to_end(&mut out).await;
        });
        let _ = wr.write_all(data).await;
        let _ = wr.shutdown().await;
        let _ = tokio::time::timeout(Duration::from_secs(60), reader).await;
        let _ = tokio::time::timeout(Duration::from_secs(60), task).await;
    });
});
