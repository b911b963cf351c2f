// Limits per connection and per user: one user cannot take the server's memory, descriptors or
// passes from the others (docs/batch-system.md, "Limits per connection and per user").
#pragma once
#include <cstddef>

namespace reprise::server {

// Unsent output above which a connection's further requests wait (and it is not read).
constexpr size_t kConnOutLimit = 4u << 20;
// The same for all connections of one (non-root) user together.
constexpr size_t kUserOutLimit = 64u << 20;
// Input buffered in incomplete frames: for all connections of one (non-root) user together,
// and for all connections that have not authenticated yet together. Past it, those
// connections are not read until frames complete or connections close (checked every second).
constexpr size_t kUserInLimit = 64u << 20;
constexpr size_t kUnauthInLimit = 64u << 20;
// Input is read ahead at most this far beyond the next complete frame.
constexpr size_t kReadAhead = 64u << 10;
// Requests handled per connection per pass, so one client cannot monopolise a pass.
constexpr int kFramesPerPass = 16;
// Connections accepted per listener per pass.
constexpr int kAcceptsPerPass = 64;
// Concurrent connections of one non-root user (at most a quarter of the client descriptors).
constexpr int kMaxConnsPerUser = 128;
// TCP connections that have not sent their first request: per peer address and in all.
constexpr int kMaxUnauthPerAddress = 32;
constexpr int kMaxUnauth = 256;
// Seconds a TCP connection has to send its first (authenticating) request.
constexpr long kFirstRequestSeconds = 10;
// Default of the server attribute tcp_timeout (TORQUE's name and default): seconds without
// progress after which a client connection is closed; 0 turns it off.
constexpr long kDefaultTcpTimeout = 300;
// Descriptors kept out of the client budget: database, log, munged, listeners, and moms
// (plus one per known node).
constexpr size_t kFdReserve = 64;
// Refusals are logged at most once per this many seconds, with a count of the others.
constexpr long kRefusalLogSeconds = 10;

}  // namespace reprise::server
