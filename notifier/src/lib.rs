//! WebSocket fan-out of RabbitMQ events, one actor per connection. Built by issue 4; this crate
//! exists now so the workspace has the shape the design asks for.
