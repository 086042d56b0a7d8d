// The API reference page: Scalar's reference reading the server's own OpenAPI document.
//
// Everything it needs comes from this bundle and from this server: no CDN, no fonts
// from Scalar's hosts, no telemetry, so the page works on a machine without internet.

// First: it configures zod before Scalar's modules run.
import './jitless';
import { createApiReference } from '@scalar/api-reference';
import '@scalar/api-reference/style.css';

createApiReference('#reference', {
  url: '/api/v1/openapi.json',
  // The defaults would fetch fonts from fonts.scalar.com and report page views.
  withDefaultFonts: false,
  telemetry: false,
  // "Try it" calls this server directly (same origin), never through Scalar's proxy.
  proxyUrl: '',
  showDeveloperTools: 'never',
  // "Ask AI" sends the document to Scalar's hosted service (and is shown on local URLs).
  agent: { disabled: true },
  mcp: { disabled: true },
  hideClientButton: false,
});
