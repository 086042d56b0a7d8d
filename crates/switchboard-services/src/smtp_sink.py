# A throwaway SMTP receiver for Switchboard's tests (switchboard-services, smtp.rs).
# Usage: python3 smtp_sink.py PORT DIR
# Every message it accepts is written whole (as received) to DIR/new/<n>.eml, first
# to DIR/tmp and then renamed, so a reader never sees half a message. While the file
# DIR/refuse exists, every recipient is answered "451 4.3.0" (try again later).
import asyncio
import os
import sys
import time

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        for sub in ("tmp", "new"):
            os.makedirs(os.path.join(directory, sub), exist_ok=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if os.path.exists(os.path.join(self.directory, "refuse")):
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns():020d}.eml"
        tmp = os.path.join(self.directory, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.directory, "new", name))
        return "250 Message accepted for delivery"


async def main(port, directory):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Sink(directory)), host="127.0.0.1", port=port)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
