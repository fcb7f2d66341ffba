/**
 * The configuration version: one row, bumped by every committed change. A
 * gateway compares it with the version its snapshot was loaded at to know
 * whether another gateway sharing the database changed something; taking the
 * row's lock first also makes writers from different gateways take turns.
 */
export const name = '002_config_version';

export const up = `
CREATE TABLE config_version (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  version bigint NOT NULL);
INSERT INTO config_version (version) VALUES (0);
`;
