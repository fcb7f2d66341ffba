/**
 * Node's Buffer global for the browser bundle (esbuild `inject`): host/jq
 * measures and converts UTF-8 and base64 with it. The `buffer` package is
 * Node's API for browsers.
 */
export { Buffer } from 'buffer';
