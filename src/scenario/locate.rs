//! The line a field path (`expect.connectivity[1].to`) sits on in a YAML
//! text, for errors found after deserializing, when serde has no position
//! left. Block style and one-line flow collections, as scenario files are
//! written; `None` when the path cannot be followed.

/// A line of the text: its number (1-based), indentation and content.
struct Line<'a> {
    number: usize,
    indent: usize,
    text: &'a str,
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        for index in rest.split('[') {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                out.push(Segment::Index(i));
            }
        }
    }
    out
}

/// The 1-based line of `path` in `text`.
pub fn line_of(text: &str, path: &str) -> Option<usize> {
    let lines: Vec<Line> = text
        .lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let trimmed = raw.trim_start();
            (!trimmed.is_empty() && !trimmed.starts_with('#')).then(|| Line {
                number: i + 1,
                indent: raw.len() - trimmed.len(),
                text: trimmed,
            })
        })
        .collect();
    let mut region: &[Line] = &lines;
    let mut found = None;
    for segment in segments(path) {
        // The value is on the line just found (a scalar or a flow collection).
        if region.is_empty() {
            return found;
        }
        match segment {
            Segment::Key(key) => {
                let depth = content_indent(&region[0]);
                let key_line = region.iter().enumerate().find(|(_, l)| {
                    content_indent(l) == depth
                        && l.text
                            .trim_start_matches("- ")
                            .starts_with(&format!("{key}:"))
                });
                let Some((at, line)) = key_line else {
                    // `- {from: app, to: db}`: a flow mapping on one line.
                    return (region.len() == 1).then(|| region[0].number);
                };
                found = Some(line.number);
                region = block_below(&region[at + 1..], content_indent(line));
            }
            Segment::Index(index) => {
                let depth = region[0].indent;
                let items: Vec<usize> = region
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.indent == depth && l.text.starts_with('-'))
                    .map(|(i, _)| i)
                    .collect();
                let &at = items.get(index)?;
                found = Some(region[at].number);
                let end = items.get(index + 1).copied().unwrap_or(region.len());
                // The item's own line counts: `- from: app` holds a key.
                region = &region[at..end];
            }
        }
    }
    found
}

/// Where a line's content starts, after any `- ` item markers.
fn content_indent(line: &Line) -> usize {
    line.indent + (line.text.len() - line.text.trim_start_matches("- ").len())
}

/// The lines nested deeper than `indent`, up to the first that is not.
fn block_below<'l, 'a>(lines: &'l [Line<'a>], indent: usize) -> &'l [Line<'a>] {
    let end = lines
        .iter()
        .position(|l| l.indent < indent || (l.indent == indent && !l.text.starts_with('-')))
        .unwrap_or(lines.len());
    &lines[..end]
}

#[cfg(test)]
mod tests {
    use super::line_of;

    const TEXT: &str = "\
# a comment
description: app
role: app
groups: [app, database]
expect:
  health:
    - http:
        host: app
        port: 80
  connectivity:
    - {from: app, to: database, probe: postgres}
    - from: app
      to: knowledge
      probe: ner
";

    #[test]
    fn follows_keys_and_indexes_in_block_and_flow_style() {
        assert_eq!(line_of(TEXT, "role"), Some(3));
        assert_eq!(line_of(TEXT, "groups[1]"), Some(4));
        assert_eq!(line_of(TEXT, "expect.health[0].http.port"), Some(9));
        assert_eq!(line_of(TEXT, "expect.connectivity[0].to"), Some(11));
        assert_eq!(line_of(TEXT, "expect.connectivity[1].to"), Some(13));
        assert_eq!(line_of(TEXT, "expect.connectivity[1].probe"), Some(14));
    }

    #[test]
    fn an_unknown_path_has_no_line() {
        assert_eq!(line_of(TEXT, "steps"), None);
    }
}
