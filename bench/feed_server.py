"""The benchmarks' feed: a WebSocket server that costs next to no CPU, in a process of its own.

A websockets server spends about 10 us of CPU on each frame it sends: flat out, on two cores,
that is a core's worth of work competing with the pipeline it feeds, and it caps the rate any
pipeline can reach at about what the bare baseline does. So the handshake is websockets' own
(sans-I/O), and then the frames, built once as WebSocket text frames, go out with blocking
`sendall` in chunks of a few hundred: the kernel's socket buffer paces the sender to the reader.
The client must not ping (nothing here answers): the pipelines run with pings off.
"""

from __future__ import annotations

import array
import itertools
import resource
import socket
import time
from pathlib import Path

from websockets.server import ServerProtocol

CHUNK = 256  # frames per sendall when sending flat out


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final WebSocket text frame (RFC 6455, 5.2), as a server sends it."""
    size = len(payload)
    if size < 126:
        return b"\x81" + bytes([size]) + payload
    if size < 1 << 16:
        return b"\x81\x7e" + size.to_bytes(2, "big") + payload
    return b"\x81\x7f" + size.to_bytes(8, "big") + payload


def _handshake(conn: socket.socket) -> None:
    protocol = ServerProtocol()
    while not (events := protocol.events_received()):
        data = conn.recv(65536)
        if not data:
            raise ConnectionError("the client left during the handshake")
        protocol.receive_data(data)
    protocol.send_response(protocol.accept(events[0]))
    conn.sendall(b"".join(protocol.data_to_send()))


def serve(
    frames_path: str,
    *,
    count: int | None,
    seconds: float | None,
    rate: float | None,
    port_out,
    go,
    times_path: str,
) -> None:
    """Process body. Listen, send the port through `port_out`, accept one client, wait for a
    word on `go`, then send frames from `frames_path` (cycled): `count` of them, or as many
    as fit in `seconds`; at `rate` a second or flat out. Sends back through `go` (frames sent,
    this process's CPU seconds while sending, wall seconds sending). Paced runs write each
    frame's send time (epoch seconds) to `times_path`; flat-out runs write the first only."""
    lines = Path(frames_path).read_bytes().splitlines()
    frames = [text_frame(line) for line in lines if line]
    listener = socket.create_server(("127.0.0.1", 0))
    port_out.send(listener.getsockname()[1])
    conn, _ = listener.accept()
    _handshake(conn)
    go.recv()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    source = itertools.cycle(frames)
    started = time.time()
    deadline = started + seconds if seconds is not None else float("inf")
    limit = count if count is not None else 1 << 62
    sent = array.array("d")
    done = 0
    while done < limit and time.time() < deadline:
        if rate is None:
            n = min(CHUNK, limit - done)
        else:
            due = started + done / rate
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)
            # Everything due by now, then look at the clock again.
            n = max(1, min(limit, int((time.time() - started) * rate) + 1) - done)
        chunk = b"".join(itertools.islice(source, n))
        now = time.time()
        if rate is not None or not sent:
            sent.extend(itertools.repeat(now, n if rate is not None else 1))
        try:
            conn.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            break  # the client went away: what it read is what it read
        done += n
    took = time.time() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    go.send((done, usage.ru_utime + usage.ru_stime - cpu_before, took))
    Path(times_path).write_bytes(sent.tobytes())
    # Wait for the client's close frame (or the end of the stream), answer it, and leave.
    conn.settimeout(120)
    try:
        if conn.recv(65536):
            conn.sendall(b"\x88\x02\x03\xe8")  # close, 1000: normal closure
    except OSError:
        pass
    conn.close()
    listener.close()
