//! SIGTERM stops a running server gracefully (alone in its binary: it signals its own process).

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_server::collector::Scraper;
use hypermesh_server::config::WebConfig;
use hypermesh_server::http::App;
use hypermesh_server::server::{Limits, Server, shutdown_signal};
use hypermesh_server::sources::Sources;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn sigterm_stops_the_server() {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let signal = shutdown_signal().unwrap();
            let sources = Sources::new(FsRoot::host(), Default::default(), Err("not in this test".into()));
            let app = App::new(Scraper::new(Vec::new()), Arc::new(sources)).unwrap();
            let server =
                Server::bind("127.0.0.1:0".parse().unwrap(), app, &WebConfig::default(), Limits::default())
                    .await
                    .unwrap();
            addr_tx.send(server.local_addr().unwrap()).unwrap();
            server.run(signal).await;
        });
        done_tx.send(()).unwrap();
    });
    let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(std::net::TcpStream::connect(addr).is_ok());
    hypermesh_testkit::send_signal(std::process::id(), libc::SIGTERM);
    done_rx.recv_timeout(Duration::from_secs(10)).expect("server stopped on SIGTERM");
    assert!(std::net::TcpStream::connect(addr).is_err(), "port closed");
}
