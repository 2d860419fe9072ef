"""A trivial HTTP relying party for the probe's throughput figure: accepts every request (200,
empty body), HTTP/1.1 keep-alive, no parsing beyond the end of the headers. Prints its port.
The point is to measure the probe, so the relying party does as little as a server can."""
import asyncio
import sys

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class Rp(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buf = b""

    def data_received(self, data):
        self.buf += data
        n = self.buf.count(b"\r\n\r\n")
        if n:
            self.buf = self.buf[self.buf.rfind(b"\r\n\r\n") + 4 :]
            self.transport.write(OK * n)


async def main():
    server = await asyncio.get_running_loop().create_server(Rp, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


try:
    asyncio.run(main())
except KeyboardInterrupt:
    sys.exit(0)
