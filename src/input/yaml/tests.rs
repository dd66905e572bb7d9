use super::*;

fn problem(text: &str) -> YamlError {
    parse(text).unwrap_err()
}

#[test]
fn scalars_are_read_as_pyyaml_reads_them_and_quoted_ones_stay_text() {
    let doc =
        parse("a: yes\nb: '0755'\nc: 0755\nd: !!str 12\ne: !unsafe '{{ x }}'\nf: ~\n").unwrap();
    assert_eq!(doc.get("a").unwrap().kind, Kind::Bool(true));
    assert_eq!(doc.get("b").unwrap().kind, Kind::Str("0755".into()));
    assert_eq!(doc.get("c").unwrap().kind, Kind::Int(0o755));
    assert_eq!(doc.get("d").unwrap().kind, Kind::Str("12".into()));
    assert_eq!(doc.get("e").unwrap().kind, Kind::Str("{{ x }}".into()));
    assert!(doc.get("f").unwrap().is_null());
    let vault = parse("p: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n").unwrap();
    assert!(matches!(&vault.get("p").unwrap().kind, Kind::Tagged(tag, _) if tag == "!vault"));
}

#[test]
fn a_key_written_twice_names_both_lines() {
    let error = problem("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n");
    assert_eq!((error.line, error.column), (5, 3));
    assert_eq!(
        error.problem,
        YamlProblem::DuplicateKey {
            key: "c".into(),
            first: 3
        }
    );
    // The same key to PyYAML: `1` and `01` are both the integer 1.
    let error = problem("{1: a, 01: b}");
    assert!(matches!(error.problem, YamlProblem::DuplicateKey { .. }));
    // Keys a merge brings are not duplicates: explicit keys win.
    let doc = parse("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n").unwrap();
    let used = doc.get("use").unwrap();
    assert_eq!(used.get("x").unwrap().kind, Kind::Int(1));
    assert_eq!(used.get("y").unwrap().kind, Kind::Int(3));
}

#[test]
fn deep_nesting_is_refused_where_it_passes_the_limit() {
    let depth = 100_000;
    let text = format!("vars: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    let error = problem(&text);
    assert_eq!(error.problem, YamlProblem::TooDeep);
    // Refused near where the limit is passed, long before the end of the
    // text: the reader stopped there (the parser's lookahead is 255 at most).
    assert_eq!(error.line, 1);
    assert!(error.column < 300, "{error}");
    let block = format!("vars:\n{}x\n", "- ".repeat(depth));
    assert!(parse(&block).is_err(), "block nesting is limited too");
    let fine = format!(
        "v: {}{}\n",
        "[".repeat(MAX_DEPTH - 1),
        "]".repeat(MAX_DEPTH - 1)
    );
    parse(&fine).unwrap();
}

#[test]
fn aliases_that_expand_past_the_limit_are_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..8 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    assert_eq!(problem(&text).problem, YamlProblem::AliasesTooLarge);
}

#[test]
fn one_document_simple_keys_and_readable_values_only() {
    assert_eq!(
        problem("a: 1\n---\nb: 2\n").problem,
        YamlProblem::MoreThanOneDocument
    );
    assert_eq!(problem("? [a]\n: 1\n").problem, YamlProblem::ComplexKey);
    assert_eq!(problem("a: =\n").problem, YamlProblem::ValueToken);
    assert_eq!(problem("a: *nothing\n").problem, YamlProblem::UnknownAlias);
    let syntax = problem("a: [1, 2\n");
    assert!(matches!(syntax.problem, YamlProblem::Syntax(_)), "{syntax}");
    assert!(parse("").unwrap().is_null());
}

#[test]
fn lines_of_paths_follow_the_tree() {
    let doc = parse(
        "description: x\nexpect:\n  connectivity:\n    - {from: a, to: b}\n    - from: c\n      to: d\n",
    )
    .unwrap();
    assert_eq!(doc.line_at("expect.connectivity[1].to"), 6);
    assert_eq!(doc.line_at("expect.connectivity[0].to"), 4);
    assert_eq!(doc.line_at("expect.nothing"), 2, "as deep as it goes");
}

#[test]
fn rendering_says_what_ansible_would_print() {
    let doc = parse("a: yes\nb: 0755\nc: 1.10\nd: '1.10'\ne: 12\n").unwrap();
    let rendered = |k: &str| doc.get(k).unwrap().rendered().unwrap();
    assert_eq!(rendered("a"), "True");
    assert_eq!(rendered("b"), "493");
    assert_eq!(rendered("c"), "1.1");
    assert_eq!(rendered("d"), "1.10");
    assert_eq!(rendered("e"), "12");
}
