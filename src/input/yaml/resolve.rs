//! PyYAML's implicit resolvers (YAML 1.1), which Ansible and Molecule read
//! with: what a plain scalar means. `yes` is true, `0755` is the octal 493,
//! `1_000` is a thousand, `1e10` is text (a float needs a dot), `1:20` is
//! eighty, `2001-12-14` is a date. The regular expressions are PyYAML's
//! (`yaml/resolver.py`), and so are the conversions (`yaml/constructor.py`).

use std::sync::LazyLock;

use regex::Regex;

use super::node::Kind;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a resolver pattern compiles")
}

static BOOL: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
});
static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    )
});
static INT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    )
});
static NULL: LazyLock<Regex> = LazyLock::new(|| regex(r"^(?:~|null|Null|NULL|)$"));
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
    )
});

/// Why a scalar cannot be read the way Ansible reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// `=`: PyYAML resolves it to a tag it has no constructor for.
    ValueToken,
    /// A number PyYAML resolves but cannot convert (`0b_`), or one too
    /// large for argos-cloud.
    Number,
}

/// What a plain (unquoted) scalar means to PyYAML.
pub fn plain(text: &str) -> Result<Kind, Unreadable> {
    // PyYAML picks resolvers by the first character; the patterns
    // themselves are anchored, so trying each in PyYAML's order is the same.
    if BOOL.is_match(text) {
        return Ok(Kind::Bool(matches!(
            text,
            "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON"
        )));
    }
    if FLOAT.is_match(text) {
        return float(text).map(Kind::Float).ok_or(Unreadable::Number);
    }
    if INT.is_match(text) {
        return int(text).map(Kind::Int).ok_or(Unreadable::Number);
    }
    if NULL.is_match(text) {
        return Ok(Kind::Null);
    }
    if TIMESTAMP.is_match(text) {
        return Ok(Kind::Timestamp(text.to_owned()));
    }
    if text == "=" {
        return Err(Unreadable::ValueToken);
    }
    Ok(Kind::Str(text.to_owned()))
}

/// Whether `text` is PyYAML's merge key `<<`.
pub fn is_merge_key(text: &str) -> bool {
    text == "<<"
}

/// `!!int`: PyYAML's `construct_yaml_int`.
pub fn int(text: &str) -> Option<i128> {
    let value = text.replace('_', "");
    let (sign, digits) = match value.as_bytes().first()? {
        b'-' => (-1, &value[1..]),
        b'+' => (1, &value[1..]),
        _ => (1, &value[..]),
    };
    let magnitude = if digits == "0" {
        0
    } else if let Some(binary) = digits.strip_prefix("0b") {
        i128::from_str_radix(binary, 2).ok()?
    } else if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if digits.starts_with('0') {
        i128::from_str_radix(digits, 8).ok()?
    } else if digits.contains(':') {
        let mut total: i128 = 0;
        for part in digits.split(':') {
            total = total
                .checked_mul(60)?
                .checked_add(part.parse::<i128>().ok()?)?;
        }
        total
    } else {
        digits.parse::<i128>().ok()?
    };
    magnitude.checked_mul(sign)
}

/// `!!float`: PyYAML's `construct_yaml_float`.
pub fn float(text: &str) -> Option<f64> {
    let value = text.replace('_', "").to_lowercase();
    let (sign, digits) = match value.as_bytes().first()? {
        b'-' => (-1.0, &value[1..]),
        b'+' => (1.0, &value[1..]),
        _ => (1.0, &value[..]),
    };
    if digits == ".inf" {
        return Some(sign * f64::INFINITY);
    }
    if digits == ".nan" {
        return Some(f64::NAN);
    }
    if digits.contains(':') {
        let mut total = 0.0;
        for part in digits.split(':') {
            total = total * 60.0 + part.parse::<f64>().ok()?;
        }
        return Some(sign * total);
    }
    // Python's float() takes `1.`, `.5` and `1.e+5`; Rust's parse wants a
    // digit after the dot before an exponent.
    let digits = digits.replace(".e", ".0e");
    digits.parse::<f64>().ok().map(|f| sign * f)
}

/// `!!bool`.
pub fn boolean(text: &str) -> Option<bool> {
    match plain(text) {
        Ok(Kind::Bool(b)) => Some(b),
        _ => None,
    }
}

/// A float as Python's `str()` writes it (what a Jinja template renders):
/// `1.1`, `10000000000.0`, `1e+16`, `inf`, `nan`.
pub fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Rust's Debug is the shortest round-trip form with Python's switch to
    // an exponent (below 1e-4, from 1e16); only the exponent's spelling differs.
    let text = format!("{f:?}");
    match text.split_once('e') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = match exponent.strip_prefix('-') {
                Some(digits) => ('-', digits),
                None => ('+', exponent),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Kind {
        plain(text).unwrap()
    }

    #[test]
    fn the_scalars_yaml_1_2_and_pyyaml_disagree_on_read_as_pyyaml() {
        assert_eq!(kind("yes"), Kind::Bool(true));
        assert_eq!(kind("Off"), Kind::Bool(false));
        assert_eq!(kind("y"), Kind::Str("y".into()), "PyYAML has no y/n");
        assert_eq!(kind("0755"), Kind::Int(0o755));
        assert_eq!(kind("01234567012"), Kind::Int(0o1234567012));
        assert_eq!(kind("1_234_567_8"), Kind::Int(12_345_678));
        assert_eq!(
            kind("1e10"),
            Kind::Str("1e10".into()),
            "a float needs a dot"
        );
        assert_eq!(kind("1.0e+10"), Kind::Float(1e10));
        assert_eq!(kind("1:20"), Kind::Int(80));
        assert_eq!(kind("0b101"), Kind::Int(5));
        assert_eq!(kind("0x1F"), Kind::Int(31));
        assert_eq!(kind("0o17"), Kind::Str("0o17".into()), "no 0o in YAML 1.1");
        assert_eq!(kind("08"), Kind::Str("08".into()), "not octal, not decimal");
        assert_eq!(kind("2001-12-14"), Kind::Timestamp("2001-12-14".into()));
        assert_eq!(kind("~"), Kind::Null);
        assert_eq!(kind(""), Kind::Null);
        assert_eq!(
            kind("1234567890123456789012"),
            Kind::Int(1_234_567_890_123_456_789_012)
        );
        assert_eq!(plain("="), Err(Unreadable::ValueToken));
        assert_eq!(plain("0b_"), Err(Unreadable::Number));
    }

    #[test]
    fn floats_are_written_as_python_writes_them() {
        for (f, text) in [
            (1.1, "1.1"),
            (1e10, "10000000000.0"),
            (1e16, "1e+16"),
            (1.5e-7, "1.5e-07"),
            (-0.0, "-0.0"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(python_float(f), text);
        }
    }
}
