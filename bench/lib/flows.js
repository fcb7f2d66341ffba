// The flows the HTTP benchmark runs, copied verbatim from the shared examples
// (only the call URLs point at local servers instead of remote services).

/**
 * The seed's third-party auth flow (shared/seeds/002_*.txt, "Authenticate
 * Kong to a third-party service"): static inputs, jq builds the token-service
 * headers from the query's api_key, a POST call to the token service, jq
 * builds the Authorization header into service_request.headers.
 */
export function authFlow(tokenUrl) {
  return {
    nodes: [
      {
        name: 'STATIC_INPUTS',
        type: 'static',
        values: { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' },
      },
      {
        name: 'BUILD_HEADERS',
        type: 'jq',
        inputs: { headers: 'STATIC_INPUTS.headers', query: 'request.query' },
        jq: '.headers * {\n "X-Api-Key": (.query.api_key // "none")\n}\n',
      },
      {
        name: 'AUTH_REQUEST',
        type: 'call',
        inputs: { headers: 'BUILD_HEADERS', body: 'STATIC_INPUTS.body' },
        url: tokenUrl,
        method: 'POST',
      },
      {
        name: 'UPSTREAM_AUTH_HEADER',
        type: 'jq',
        input: 'AUTH_REQUEST.body',
        output: 'service_request.headers',
        jq: '{\n Authorization: (.token_type + " " + .access_token)\n}\n',
      },
    ],
  };
}

/**
 * shared/flows/combine-two-apis-into-one-response.yaml: two calls (no
 * dependency between them, so they run in parallel), a jq join, an exit.
 */
export function multiplexFlow(jsonUrl, uuidUrl) {
  return {
    nodes: [
      { name: 'AUTHOR', type: 'call', url: jsonUrl },
      { name: 'UUID', type: 'call', url: uuidUrl },
      {
        name: 'JOIN',
        type: 'jq',
        inputs: { input1: 'AUTHOR.body', input2: 'UUID.body' },
        jq: '{\n  author: .input1.slideshow.author,\n  uuid: .input2.uuid,\n}\n',
      },
      { name: 'EXIT', type: 'exit', inputs: { body: 'JOIN' }, status: 200 },
    ],
  };
}

/** The smallest useful flow: one static node into service_request.headers (the plugin path's fixed cost). */
export function staticHeaderFlow() {
  return { nodes: [{ name: 'S', type: 'static', values: { 'X-A': 'b' }, output: 'service_request.headers' }] };
}

/** A declarative gateway document: one service, one route on "/", optional plugins on the route. */
export function gatewayDoc(upstreamUrl, routePlugins = []) {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'bench',
        url: upstreamUrl,
        routes: [{ name: 'bench', paths: ['/'], plugins: routePlugins }],
      },
    ],
  };
}

/** What the local API endpoints answer (shaped like httpbin's /json and /uuid). */
export const API_BODIES = {
  '/json': JSON.stringify({
    slideshow: {
      author: 'Yours Truly',
      date: 'date of publication',
      slides: [
        { title: 'Wake up to WonderWidgets!', type: 'all' },
        { items: ['Why <em>WonderWidgets</em> are great', 'Who <em>buys</em> WonderWidgets'], title: 'Overview', type: 'all' },
      ],
      title: 'Sample Slide Show',
    },
  }),
  '/uuid': JSON.stringify({ uuid: '2f1c6a4e-9b3d-4c5e-8f7a-1b2c3d4e5f60' }),
};

/** What the token service answers. */
export const TOKEN_BODY = JSON.stringify({ token_type: 'Bearer', access_token: 'bench-access-token-0123456789', expires_in: 3600 });
