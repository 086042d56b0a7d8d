// Imported before Scalar: tells zod (which Scalar validates its configuration with) not to
// compile validators with `new Function`. Zod probes for that at start, and under the
// page's CSP (`script-src 'self'`, no 'unsafe-eval') the probe is a reported violation.

import { config } from 'zod/v4/core';

config({ jitless: true });
