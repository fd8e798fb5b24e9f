//! Binding the HTTP listener with a deep accept queue: when a flood of connections has every
//! worker at HTTP_MAX_CONNECTIONS, the rest wait in the kernel's queue (and a probe with them)
//! instead of having their SYNs dropped and retried seconds later.

use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

/// Connections the kernel holds for us beyond those being served.
const ACCEPT_BACKLOG: i32 = 2048;

/// A listener on `address` with SO_REUSEADDR and a 2048-deep accept queue.
pub fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(ACCEPT_BACKLOG)?;
    Ok(socket.into())
}
