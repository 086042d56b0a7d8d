// Proof of work for a site under attack: finds a nonce such that SHA-256 of
// `challenge:nonce` starts with `difficulty` zero bits (docs/protocol.md, "Proof of
// work"). WebCrypto hashes off the main thread and answers in tasks, so hashing in
// batches and yielding between them keeps the page responsive (about half a second at
// the server's default of 16 bits).

const BATCH = 512;

function zeroBits(hash: ArrayBuffer): number {
  const bytes = new Uint8Array(hash);
  let bits = 0;
  for (const b of bytes) {
    if (b === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(b) - 24;
  }
  return bits;
}

/** The first nonce (a decimal string) that solves `challenge`. */
export async function solve(challenge: string, difficulty: number): Promise<string> {
  const encoder = new TextEncoder();
  for (let start = 0; ; start += BATCH) {
    const tries = Array.from({ length: BATCH }, (_, i) => String(start + i));
    const hashes = await Promise.all(tries.map((nonce) => crypto.subtle.digest('SHA-256', encoder.encode(`${challenge}:${nonce}`))));
    const found = hashes.findIndex((h) => zeroBits(h) >= difficulty);
    if (found >= 0) return tries[found]!;
    // Let the page draw and take input between batches.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
