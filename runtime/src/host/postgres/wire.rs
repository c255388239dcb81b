//! PostgreSQL's binary wire forms that tokio-postgres has no type for here: text of any
//! textual or enum type, JSON and JSONB, `interval`, `numeric` (both ways, exactly: any
//! precision, `NaN` and infinities), ranges (both ways), and any value's raw bytes.

use tokio_postgres::types::{FromSql, Kind, Type};

pub type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A range's bound: its value and whether it is inclusive; `None` is unbounded.
pub type Bound<T> = Option<(T, bool)>;

/// Is `ty` textual (its binary form its UTF-8 text): the string types and enums.
pub fn is_text(ty: &Type) -> bool {
    matches!(*ty, Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME)
        || matches!(ty.kind(), Kind::Enum(_))
}

/// Text of any textual or enum type (their binary form is their UTF-8 text).
pub struct Text(pub String);

impl<'a> FromSql<'a> for Text {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Text(std::str::from_utf8(raw)?.to_string()))
    }
    fn accepts(ty: &Type) -> bool {
        is_text(ty)
    }
}

/// JSON or JSONB, as JSON text bytes.
pub struct Json(pub Vec<u8>);

impl<'a> FromSql<'a> for Json {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Json(match (ty, raw) {
            (&Type::JSONB, [1, rest @ ..]) => rest.to_vec(),
            (&Type::JSONB, _) => return Err("unknown JSONB format version".into()),
            _ => raw.to_vec(),
        }))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::JSONB
    }
}

/// Any value's binary encoding.
pub struct Raw(pub Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Raw(raw.to_vec()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// `interval`: (microseconds, days, months).
pub struct Interval(pub i64, pub i32, pub i32);

impl<'a> FromSql<'a> for Interval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let raw: &[u8; 16] = raw.try_into().map_err(|_| "an interval is 16 bytes")?;
        let micros = i64::from_be_bytes(raw[..8].try_into().expect("8 bytes"));
        let days = i32::from_be_bytes(raw[8..12].try_into().expect("4 bytes"));
        let months = i32::from_be_bytes(raw[12..].try_into().expect("4 bytes"));
        Ok(Interval(micros, days, months))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// `numeric` as exact decimal text.
pub struct Numeric(pub String);

pub const NUMERIC_NEG: u16 = 0x4000;
pub const NUMERIC_NAN: u16 = 0xC000;
pub const NUMERIC_PINF: u16 = 0xD000;
pub const NUMERIC_NINF: u16 = 0xF000;

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let word = |i: usize| -> Result<u16, BoxError> {
            raw.get(i * 2..i * 2 + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| "truncated numeric".into())
        };
        let (ndigits, weight, sign, dscale) =
            (word(0)? as usize, word(1)? as i16, word(2)?, word(3)?);
        match sign {
            NUMERIC_NAN => return Ok(Numeric("NaN".into())),
            NUMERIC_PINF => return Ok(Numeric("Infinity".into())),
            NUMERIC_NINF => return Ok(Numeric("-Infinity".into())),
            0 | NUMERIC_NEG => {}
            _ => return Err("bad numeric sign".into()),
        }
        let digits = (0..ndigits)
            .map(|i| word(4 + i))
            .collect::<Result<Vec<u16>, _>>()?;
        if digits.iter().any(|d| *d > 9999) {
            return Err("bad numeric digit".into());
        }
        // Base-10000 digit i stands for 10000^(weight - i).
        let mut int = String::new();
        for power in (0..=weight.max(-1)).rev() {
            let at = (weight - power) as usize;
            let d = digits.get(at).copied().unwrap_or(0);
            if int.is_empty() {
                if d != 0 {
                    int = d.to_string();
                }
            } else {
                int += &format!("{d:04}");
            }
        }
        if int.is_empty() {
            int.push('0');
        }
        let mut frac = String::new();
        let mut power = -1i32;
        while frac.len() < usize::from(dscale) {
            let at = i32::from(weight) - power;
            let d = usize::try_from(at)
                .ok()
                .and_then(|at| digits.get(at))
                .copied()
                .unwrap_or(0);
            frac += &format!("{d:04}");
            power -= 1;
        }
        frac.truncate(usize::from(dscale));
        let sign = if sign == NUMERIC_NEG { "-" } else { "" };
        Ok(Numeric(if frac.is_empty() {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{frac}")
        }))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

/// `numeric`'s binary form of decimal text (`-12.345`, `1e3`, `NaN`, `Infinity`).
pub fn encode_numeric(text: &str, out: &mut bytes::BytesMut) -> Result<(), BoxError> {
    let bad = || -> BoxError { format!("{text:?} is not a decimal number").into() };
    let put = |out: &mut bytes::BytesMut, words: &[u16]| {
        for w in words {
            out.extend_from_slice(&w.to_be_bytes());
        }
    };
    let t = text.trim();
    let special = match t.to_ascii_lowercase().as_str() {
        "nan" => Some(NUMERIC_NAN),
        "infinity" | "+infinity" | "inf" => Some(NUMERIC_PINF),
        "-infinity" | "-inf" => Some(NUMERIC_NINF),
        _ => None,
    };
    if let Some(sign) = special {
        put(out, &[0, 0, sign, 0]);
        return Ok(());
    }
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (mantissa, exp) = match t.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().map_err(|_| bad())?),
        None => (t, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        || exp.abs() > 100_000
    {
        return Err(bad());
    }
    // All digits, with the decimal point after `point` of them.
    let all: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    let point = int.len() as i64 + i64::from(exp);
    let dscale = (frac.len() as i64 - i64::from(exp)).max(0);
    // Pad on the left so the point falls on a group-of-four boundary.
    let lead = (4 - point.rem_euclid(4)) % 4;
    let mut padded = vec![0u8; lead as usize];
    padded.extend_from_slice(&all);
    while !padded.len().is_multiple_of(4) {
        padded.push(0);
    }
    let mut groups: Vec<u16> = padded
        .chunks(4)
        .map(|c| c.iter().fold(0u16, |acc, d| acc * 10 + u16::from(*d)))
        .collect();
    let mut weight = (point + lead) / 4 - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    let (weight, dscale) = (
        i16::try_from(weight).map_err(|_| bad())?,
        u16::try_from(dscale).map_err(|_| bad())?,
    );
    let sign = if negative && !groups.is_empty() {
        NUMERIC_NEG
    } else {
        0
    };
    put(
        out,
        &[groups.len() as u16, weight as u16, sign, dscale.min(0x3FFF)],
    );
    put(out, &groups);
    Ok(())
}

/// A range of `T`: its lower and upper bounds.
pub struct Range<T>(pub Bound<T>, pub Bound<T>);

pub const RANGE_EMPTY: u8 = 0x01;
pub const RANGE_LB_INC: u8 = 0x02;
pub const RANGE_UB_INC: u8 = 0x04;
pub const RANGE_LB_INF: u8 = 0x08;
pub const RANGE_UB_INF: u8 = 0x10;

impl<'a, T: FromSql<'a>> FromSql<'a> for Range<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let Kind::Range(element) = ty.kind() else {
            return Err("not a range".into());
        };
        let (&flags, mut rest) = raw.split_first().ok_or("empty range encoding")?;
        if flags & RANGE_EMPTY != 0 {
            // PostgreSQL's `empty`: [x, x) for any x has no member; no bounds say the same.
            return Ok(Range(None, None));
        }
        let mut bound = |present: bool, inclusive: bool| -> Result<Bound<T>, BoxError> {
            if !present {
                return Ok(None);
            }
            let (len, tail) = rest.split_at_checked(4).ok_or("truncated range")?;
            let len = i32::from_be_bytes(len.try_into().expect("4 bytes")) as usize;
            let (value, tail) = tail.split_at_checked(len).ok_or("truncated range")?;
            rest = tail;
            Ok(Some((T::from_sql(element, value)?, inclusive)))
        };
        let lo = bound(flags & RANGE_LB_INF == 0, flags & RANGE_LB_INC != 0)?;
        let hi = bound(flags & RANGE_UB_INF == 0, flags & RANGE_UB_INC != 0)?;
        Ok(Range(lo, hi))
    }
    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Range(element) if T::accepts(element))
    }
}

pub fn range_to_sql<T>(
    (lo, hi): &(Bound<T>, Bound<T>),
    element: &Type,
    out: &mut bytes::BytesMut,
    encode: impl Fn(&T, &Type, &mut bytes::BytesMut) -> Result<(), BoxError>,
) -> Result<(), BoxError> {
    let mut flags = 0;
    if lo.is_none() {
        flags |= RANGE_LB_INF;
    }
    if hi.is_none() {
        flags |= RANGE_UB_INF;
    }
    if matches!(lo, Some((_, true))) {
        flags |= RANGE_LB_INC;
    }
    if matches!(hi, Some((_, true))) {
        flags |= RANGE_UB_INC;
    }
    out.extend_from_slice(&[flags]);
    for (v, _) in [lo, hi].into_iter().flatten() {
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        encode(v, element, out)?;
        let len = i32::try_from(out.len() - at - 4)?;
        out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str) -> String {
        let mut out = bytes::BytesMut::new();
        encode_numeric(text, &mut out).unwrap();
        Numeric::from_sql(&Type::NUMERIC, &out).unwrap().0
    }

    #[test]
    fn numeric_text_survives_the_binary_form() {
        for (input, output) in [
            ("0", "0"),
            ("1", "1"),
            ("-1", "-1"),
            ("12345.6789", "12345.6789"),
            ("0.0001", "0.0001"),
            ("0.00001", "0.00001"),
            ("10000", "10000"),
            (
                "123456789012345678901234567890.123456789",
                "123456789012345678901234567890.123456789",
            ),
            ("1.50", "1.50"),
            ("-0.5", "-0.5"),
            ("1e3", "1000"),
            ("1.5e-3", "0.0015"),
            ("NaN", "NaN"),
            ("-Infinity", "-Infinity"),
            ("+7", "7"),
            ("-0", "0"),
        ] {
            assert_eq!(roundtrip(input), output, "{input}");
        }
    }

    #[test]
    fn text_that_is_not_a_number_is_refused() {
        for bad in ["", "abc", "1.2.3", "--1", "1e", "."] {
            assert!(
                encode_numeric(bad, &mut bytes::BytesMut::new()).is_err(),
                "{bad}"
            );
        }
    }
}
