// Numbers made from text: a program's literal or a JSON input's number token.
// Every place that turns number text into a jq value goes through here, so how
// a literal's text is kept (jq 1.7.1 prints `1.0` as `1.0`) is decided once.

/** The jq value of a number token (`text` matches JSON's number grammar, or a jq literal). */
export function numberFromLiteral(text: string): unknown {
  return Number(text);
}
