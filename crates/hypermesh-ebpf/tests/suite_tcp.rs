//! tcp: a connect to a closed loopback port counts a reset toward that port; a loopback transfer
//! moves sockets through SYN_SENT -> ESTABLISHED and on to CLOSE.

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::programs::tcp::Tcp;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;

/// Both tests count every TCP event on the machine; one at a time keeps them apart.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A loopback port nobody listens on: bound, then released.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn connect_to_closed_port_counts_reset() {
    if !common::root_or_skip("TCP tracing") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let port = closed_port();
    let tcp = Tcp::start().expect("load tcp");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "port {port} unexpectedly open");
    let events = tcp.events().expect("read events");
    let received = events.iter().find(|e| e.event == "receive_reset" && e.remote_port == port);
    assert!(received.is_some_and(|e| e.count >= 1), "no reset received from port {port}: {events:?}");
    assert!(events.iter().any(|e| e.event == "send_reset" && e.count >= 1), "no reset sent: {events:?}");
}

#[test]
fn loopback_transfer_moves_states() {
    if !common::root_or_skip("TCP tracing") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let tcp = Tcp::start().expect("load tcp");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).expect("read");
        buf.len()
    });
    let mut c = TcpStream::connect(addr).expect("connect");
    c.write_all(&vec![7u8; 1 << 20]).expect("write");
    drop(c);
    assert_eq!(server.join().expect("server"), 1 << 20);
    let t = tcp.transitions().expect("read transitions");
    let seen = |from: &str, to: &str| t.iter().any(|x| x.from == from && x.to == to && x.count >= 1);
    assert!(seen("CLOSE", "SYN_SENT"), "{t:?}");
    assert!(seen("SYN_SENT", "ESTABLISHED"), "{t:?}");
    assert!(seen("ESTABLISHED", "FIN_WAIT1"), "{t:?}");
}
