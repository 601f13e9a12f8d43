//! tcp: a connect to a closed loopback port counts a reset received from that port; closing a
//! connection with SO_LINGER 0 counts a reset sent to its peer's port (an active reset, traced on
//! every kernel: before 6.10 tcp_send_reset did not fire for the closed-port reply); a loopback
//! transfer moves sockets through SYN_SENT -> ESTABLISHED and on to CLOSE.

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
fn connect_to_closed_port_counts_reset_received() {
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
}

/// Closes `s` with SO_LINGER {on, 0 s}: the kernel aborts the connection with a reset.
fn abort(s: TcpStream) {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: a valid socket and a linger struct of the size given.
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&s),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_LINGER: {}", std::io::Error::last_os_error());
    drop(s);
}

#[test]
fn linger_zero_close_counts_reset_sent_to_the_peer() {
    if !common::root_or_skip("TCP tracing") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let tcp = Tcp::start().expect("load tcp");
    let client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let client_port = client.local_addr().expect("client addr").port();
    let (mut server, _) = listener.accept().expect("accept");
    abort(client);
    // The server sees the reset: its read fails (ECONNRESET) or ends.
    let _ = server.read(&mut [0u8; 1]);
    let events = tcp.events().expect("read events");
    let sent = events.iter().find(|e| e.event == "send_reset" && e.remote_port == port);
    assert!(sent.is_some_and(|e| e.count >= 1), "no reset sent to port {port}: {events:?}");
    let received = events.iter().find(|e| e.event == "receive_reset" && e.remote_port == client_port);
    assert!(received.is_some_and(|e| e.count >= 1), "no reset received from {client_port}: {events:?}");
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
