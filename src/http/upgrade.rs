//! WebSocket upgrades, taken out of actix-http's connection handling.
//!
//! actix-http keeps an HTTP/1 connection's dispatcher — an 8 KiB read and an 8 KiB write buffer,
//! timers, the request — for as long as the connection lives, an upgraded one included, which
//! is more than an idle socket needs. So the server hands every request
//! that asks for a WebSocket (`Upgrade: websocket`) to [`service`] together with its connection.
//! The request still goes through the whole application — middleware, extractors, the `/ws`
//! handler's checks and its error envelope — exactly like any other; only the answer is written
//! here. If the handler accepted the upgrade, the response carries an [`Upgraded`]: the 101 is
//! written, the connection's buffers are dropped, and the socket is served on the bare TCP
//! stream (`nosebook_notifier::connection`). Any other answer is written and the connection ends.

use std::rc::Rc;

use actix_codec::{Framed, FramedParts};
use actix_http::body::{BodySize, MessageBody};
use actix_http::{ConnectionType, Request, StatusCode, h1};
use actix_service::{Service, ServiceFactory, fn_service};
use actix_web::HttpResponse;
use actix_web::dev::ServiceResponse;
use actix_web::web::BytesMut;
use futures_util::SinkExt;
use nosebook_core::limits::SocketSlot;
use tokio::net::TcpStream;

/// What the `/ws` handler leaves in its 101 response: the socket, registered with the hub, and
/// its place among its session's sockets, held for as long as it is open.
pub struct Upgraded {
    pub handoff: nosebook_notifier::Handoff,
    pub slot: Option<SocketSlot>,
}

type Connection = Framed<TcpStream, h1::Codec>;

/// The upgrade service of one worker, over that worker's own instance of the application.
pub async fn service<A, B>(
    app: A,
) -> Result<impl Service<(Request, Connection), Response = (), Error = actix_web::Error>, ()>
where
    A: ServiceFactory<Request, Config = (), Response = ServiceResponse<B>, Error = actix_web::Error>,
    A::Service: 'static,
    B: MessageBody + 'static,
{
    let app = Rc::new(app.new_service(()).await.map_err(|_| tracing::error!("the application would not start"))?);
    Ok(fn_service(move |(req, connection): (Request, Connection)| {
        let app = app.clone();
        async move {
            // A client gone while its answer was written is nothing to report upwards.
            // Boxed, like the application's call in `answer`: a task is as large as the largest
            // state its future passes through, and this task lives as long as the socket
            // (BENCHMARKS.md, "100,000 sockets").
            if let Err(e) = Box::pin(answer(&*app, req, connection)).await {
                tracing::debug!(error = %e, "upgrade request's connection failed");
            }
            Ok(())
        }
    }))
}

async fn answer<S, B>(app: &S, req: Request, mut connection: Connection) -> std::io::Result<()>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    // Boxed (see `service`): the application's future holds the whole middleware chain, and
    // unboxed its size would stay in every open socket's task.
    let mut response: HttpResponse = match Box::pin(app.call(req)).await {
        Ok(response) => response.into_parts().1.map_into_boxed_body(),
        Err(e) => e.error_response(),
    };
    let upgraded = response.extensions_mut().remove::<Upgraded>();
    let (mut head, body) = actix_http::Response::from(response).into_parts();
    if let Some(Upgraded { handoff, slot }) = upgraded.filter(|_| head.status() == StatusCode::SWITCHING_PROTOCOLS) {
        connection.send(h1::Message::Item((head, BodySize::None))).await?;
        let FramedParts { io, read_buf, .. } = connection.into_parts();
        // What the client sent after its request is kept; the connection's buffers are not.
        let early = BytesMut::from(&read_buf[..]);
        drop(read_buf);
        nosebook_notifier::serve(io, early, handoff).await;
        drop(slot);
        return Ok(());
    }
    // Refused (or not a request for the socket at all): the answer, then the connection ends.
    head.head_mut().set_connection_type(ConnectionType::Close);
    let bytes = actix_web::body::to_bytes(body).await.map_err(|e| std::io::Error::other(e.to_string()))?;
    // Head and body in one write: a client reading the refusal may not wait for a second one.
    connection.feed(h1::Message::Item((head, BodySize::Sized(bytes.len() as u64)))).await?;
    if !bytes.is_empty() {
        connection.feed(h1::Message::Chunk(Some(bytes))).await?;
    }
    // `close` shuts the stream without writing what is buffered: flush first.
    connection.send(h1::Message::Chunk(None)).await?;
    connection.close().await
}
