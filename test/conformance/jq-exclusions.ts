// Conformance cases we do not pass, with the reason (mirrored in docs/jq.md).
export const EXCLUDED: Record<string, string> = {
  'jq.test:1584': 'modules (import/include) are not supported: no module search path',
  'jq.test:1588': 'modules (import/include) are not supported',
  'jq.test:1592': 'modules (import/include) are not supported',
  'jq.test:1596': 'modules (import/include) are not supported',
  'jq.test:1601': 'modules (import/include) are not supported',
  'jq.test:1605': 'modules (import/include) are not supported',
  'jq.test:1609': 'modules (import/include) are not supported',
  'jq.test:1613': 'modules (import/include) are not supported',
  'jq.test:1661': 'modules (import/include) are not supported',
  'jq.test:1641': 'modulemeta is out of scope (reads module files)',
  'jq.test:1645': 'modulemeta is out of scope (reads module files)',
  'jq.test:1649': 'modulemeta is out of scope (reads module files)',
};
