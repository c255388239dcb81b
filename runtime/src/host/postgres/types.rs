//! PostgreSQL values as Spin's interfaces see them: read from rows and encoded as parameters
//! (the binary codecs tokio-postgres lacks are in `wire`).
//!
//! [`Value`] and [`DataType`] have the cases of `spin:postgres@4.2.0` (the widest version);
//! older versions narrow them. Rows are read in PostgreSQL's binary format. Parameters are
//! encoded for the type the server inferred for them ([`Param`]): an integer fits any integer
//! or numeric column it is in range for, a string any textual or enum column, a date-time
//! either timestamp type, so a guest need not match PostgreSQL's integer widths exactly. A
//! value the column cannot take is an error naming both, not a silent conversion. Numeric
//! values travel as exact decimal strings (any precision, `NaN` and infinities included).

pub use super::wire::Bound;
use super::wire::{
    BoxError, Interval, Json, Numeric, Range, Raw, Text, encode_numeric, is_text, range_to_sql,
};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

/// A column's type (`db-data-type`).
#[derive(Debug, Clone, PartialEq)]
pub enum DataType {
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    Floating32,
    Floating64,
    Str,
    Binary,
    Date,
    Time,
    /// `timestamp` and `timestamptz` (never the interfaces' `timestamp` type: PostgreSQL has
    /// no seconds-since-the-epoch column).
    Datetime,
    Uuid,
    Jsonb,
    Decimal,
    RangeInt32,
    RangeInt64,
    RangeDecimal,
    ArrayInt32,
    ArrayInt64,
    ArrayDecimal,
    ArrayStr,
    Interval,
    /// A type the interfaces have no case for, by its PostgreSQL name.
    Other(String),
}

/// A value of a row or a parameter (`db-value` and `parameter-value`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Boolean(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    /// Only from Spin 3's `rdbms-types` parameters; stored in a signed column that holds it.
    Uint64(u64),
    Floating32(f32),
    Floating64(f64),
    Str(String),
    Binary(Vec<u8>),
    /// (year, month, day)
    Date((i32, u8, u8)),
    /// (hour, minute, second, nanosecond)
    Time((u8, u8, u8, u32)),
    /// UTC (year, month, day, hour, minute, second, nanosecond)
    Datetime((i32, u8, u8, u8, u8, u8, u32)),
    /// Seconds since the Unix epoch.
    Timestamp(i64),
    Uuid(String),
    Jsonb(Vec<u8>),
    Decimal(String),
    RangeInt32((Bound<i32>, Bound<i32>)),
    RangeInt64((Bound<i64>, Bound<i64>)),
    RangeDecimal((Bound<String>, Bound<String>)),
    ArrayInt32(Vec<Option<i32>>),
    ArrayInt64(Vec<Option<i64>>),
    ArrayDecimal(Vec<Option<String>>),
    ArrayStr(Vec<Option<String>>),
    Interval {
        micros: i64,
        days: i32,
        months: i32,
    },
    Null,
    /// A value of a type the interfaces have no case for: its binary encoding.
    Unsupported(Vec<u8>),
}

impl Value {
    /// Roughly how many bytes the value takes, to bound result sizes.
    pub fn size(&self) -> usize {
        match self {
            Value::Str(s) | Value::Uuid(s) | Value::Decimal(s) => s.len(),
            Value::Binary(b) | Value::Jsonb(b) | Value::Unsupported(b) => b.len(),
            Value::ArrayStr(v) | Value::ArrayDecimal(v) => {
                v.iter().map(|s| s.as_ref().map_or(1, |s| s.len())).sum()
            }
            Value::ArrayInt32(v) => v.len() * 8,
            Value::ArrayInt64(v) => v.len() * 8,
            Value::RangeDecimal((lo, hi)) => {
                lo.as_ref().map_or(0, |b| b.0.len()) + hi.as_ref().map_or(0, |b| b.0.len())
            }
            _ => 16,
        }
    }
}

/// The interface type of a column of PostgreSQL type `ty`.
pub fn data_type(ty: &Type) -> DataType {
    match *ty {
        Type::BOOL => DataType::Boolean,
        Type::CHAR => DataType::Int8,
        Type::INT2 => DataType::Int16,
        Type::INT4 => DataType::Int32,
        Type::INT8 => DataType::Int64,
        Type::FLOAT4 => DataType::Floating32,
        Type::FLOAT8 => DataType::Floating64,
        _ if is_text(ty) => DataType::Str,
        Type::BYTEA => DataType::Binary,
        Type::DATE => DataType::Date,
        Type::TIME => DataType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DataType::Datetime,
        Type::UUID => DataType::Uuid,
        Type::JSONB | Type::JSON => DataType::Jsonb,
        Type::NUMERIC => DataType::Decimal,
        Type::INT4_RANGE => DataType::RangeInt32,
        Type::INT8_RANGE => DataType::RangeInt64,
        Type::NUM_RANGE => DataType::RangeDecimal,
        Type::INT4_ARRAY => DataType::ArrayInt32,
        Type::INT8_ARRAY => DataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DataType::ArrayStr,
        Type::INTERVAL => DataType::Interval,
        _ => DataType::Other(ty.name().to_string()),
    }
}

/// Column `index` of `row`, as its type's case.
pub fn value(row: &tokio_postgres::Row, index: usize) -> Result<Value, tokio_postgres::Error> {
    fn get<'a, T: FromSql<'a>>(
        row: &'a tokio_postgres::Row,
        i: usize,
        case: impl FnOnce(T) -> Value,
    ) -> Result<Value, tokio_postgres::Error> {
        Ok(row.try_get::<_, Option<T>>(i)?.map_or(Value::Null, case))
    }
    let ty = row.columns()[index].type_();
    match data_type(ty) {
        DataType::Boolean => get(row, index, Value::Boolean),
        DataType::Int8 => get(row, index, Value::Int8),
        DataType::Int16 => get(row, index, Value::Int16),
        DataType::Int32 => get(row, index, Value::Int32),
        DataType::Int64 => get(row, index, Value::Int64),
        DataType::Floating32 => get(row, index, Value::Floating32),
        DataType::Floating64 => get(row, index, Value::Floating64),
        DataType::Str => get(row, index, |Text(s)| Value::Str(s)),
        DataType::Binary => get(row, index, Value::Binary),
        DataType::Date => get(row, index, |d: chrono::NaiveDate| {
            use chrono::Datelike;
            Value::Date((d.year(), d.month() as u8, d.day() as u8))
        }),
        DataType::Time => get(row, index, |t: chrono::NaiveTime| Value::Time(hms(t))),
        DataType::Datetime if *ty == Type::TIMESTAMPTZ => {
            get(row, index, |t: chrono::DateTime<chrono::Utc>| {
                Value::Datetime(datetime(t.naive_utc()))
            })
        }
        DataType::Datetime => get(row, index, |t: chrono::NaiveDateTime| {
            Value::Datetime(datetime(t))
        }),
        DataType::Uuid => get(row, index, |u: uuid::Uuid| Value::Uuid(u.to_string())),
        DataType::Jsonb => get(row, index, |Json(j)| Value::Jsonb(j)),
        DataType::Decimal => get(row, index, |Numeric(n)| Value::Decimal(n)),
        DataType::RangeInt32 => get(row, index, |Range(lo, hi)| Value::RangeInt32((lo, hi))),
        DataType::RangeInt64 => get(row, index, |Range(lo, hi)| Value::RangeInt64((lo, hi))),
        DataType::RangeDecimal => get(row, index, |Range::<Numeric>(lo, hi)| {
            let unwrap = |b: Bound<Numeric>| b.map(|(Numeric(n), inclusive)| (n, inclusive));
            Value::RangeDecimal((unwrap(lo), unwrap(hi)))
        }),
        DataType::ArrayInt32 => get(row, index, Value::ArrayInt32),
        DataType::ArrayInt64 => get(row, index, Value::ArrayInt64),
        DataType::ArrayDecimal => get(row, index, |v: Vec<Option<Numeric>>| {
            Value::ArrayDecimal(v.into_iter().map(|n| n.map(|Numeric(n)| n)).collect())
        }),
        DataType::ArrayStr => get(row, index, |v: Vec<Option<Text>>| {
            Value::ArrayStr(v.into_iter().map(|s| s.map(|Text(s)| s)).collect())
        }),
        DataType::Interval => get(row, index, |i: Interval| Value::Interval {
            micros: i.0,
            days: i.1,
            months: i.2,
        }),
        DataType::Other(_) => get(row, index, |Raw(b)| Value::Unsupported(b)),
    }
}

fn hms(t: chrono::NaiveTime) -> (u8, u8, u8, u32) {
    use chrono::Timelike;
    (
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond(),
    )
}

fn datetime(t: chrono::NaiveDateTime) -> (i32, u8, u8, u8, u8, u8, u32) {
    use chrono::Datelike;
    let (h, mi, s, ns) = hms(t.time());
    (t.year(), t.month() as u8, t.day() as u8, h, mi, s, ns)
}

/// A parameter, encoded for the type the server inferred for its placeholder.
#[derive(Debug)]
pub struct Param(pub Value);

impl Param {
    fn misfit(&self, ty: &Type) -> BoxError {
        let kind = format!("{:?}", self.0);
        let kind = kind
            .split(['(', ' '])
            .next()
            .unwrap_or("value")
            .to_lowercase();
        format!("a {kind} value cannot be stored as {}", ty.name()).into()
    }

    fn int(&self) -> Option<i128> {
        Some(match self.0 {
            Value::Int8(i) => i.into(),
            Value::Int16(i) => i.into(),
            Value::Int32(i) => i.into(),
            Value::Int64(i) => i.into(),
            Value::Uint64(u) => u.into(),
            _ => return None,
        })
    }
}

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        use chrono::{NaiveDate, NaiveTime};
        let date = |(y, m, d): (i32, u8, u8)| {
            NaiveDate::from_ymd_opt(y, m.into(), d.into())
                .ok_or_else(|| BoxError::from(format!("{y:04}-{m:02}-{d:02} is not a date")))
        };
        let time = |(h, mi, s, ns): (u8, u8, u8, u32)| {
            NaiveTime::from_hms_nano_opt(h.into(), mi.into(), s.into(), ns).ok_or_else(|| {
                BoxError::from(format!("{h:02}:{mi:02}:{s:02}.{ns:09} is not a time"))
            })
        };
        if let Some(i) = self.int() {
            let range = || BoxError::from(format!("{i} is out of range for {}", ty.name()));
            return match *ty {
                Type::INT2 => i16::try_from(i).map_err(|_| range())?.to_sql(ty, out),
                Type::INT4 => i32::try_from(i).map_err(|_| range())?.to_sql(ty, out),
                Type::INT8 => i64::try_from(i).map_err(|_| range())?.to_sql(ty, out),
                Type::CHAR => i8::try_from(i).map_err(|_| range())?.to_sql(ty, out),
                Type::NUMERIC => encode_numeric(&i.to_string(), out).map(|_| IsNull::No),
                _ => Err(self.misfit(ty)),
            };
        }
        match (&self.0, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Boolean(b), &Type::BOOL) => b.to_sql(ty, out),
            (Value::Floating32(f), &Type::FLOAT4) => f.to_sql(ty, out),
            (Value::Floating32(f), &Type::FLOAT8) => f64::from(*f).to_sql(ty, out),
            (Value::Floating64(f), &Type::FLOAT8) => f.to_sql(ty, out),
            (Value::Str(s), ty) if data_type(ty) == DataType::Str || *ty == Type::UNKNOWN => {
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            (Value::Str(s) | Value::Decimal(s), &Type::NUMERIC) => {
                encode_numeric(s, out).map(|_| IsNull::No)
            }
            (Value::Str(s) | Value::Uuid(s), &Type::UUID) => uuid::Uuid::parse_str(s)
                .map_err(|e| format!("{s:?} is not a UUID: {e}"))?
                .to_sql(ty, out),
            (Value::Str(s), &Type::JSON | &Type::JSONB) => {
                Param(Value::Jsonb(s.clone().into_bytes())).to_sql(ty, out)
            }
            (Value::Jsonb(j), &Type::JSON | &Type::JSONB) => {
                serde_json::from_slice::<serde::de::IgnoredAny>(j)
                    .map_err(|e| format!("the JSON value is not valid JSON: {e}"))?;
                if *ty == Type::JSONB {
                    out.extend_from_slice(&[1]);
                }
                out.extend_from_slice(j);
                Ok(IsNull::No)
            }
            (Value::Binary(b), &Type::BYTEA) => b.to_sql(ty, out),
            (Value::Date(d), &Type::DATE) => date(*d)?.to_sql(ty, out),
            (Value::Time(t), &Type::TIME) => time(*t)?.to_sql(ty, out),
            (Value::Datetime((y, mo, d, h, mi, s, ns)), &Type::TIMESTAMP | &Type::TIMESTAMPTZ) => {
                let t = date((*y, *mo, *d))?.and_time(time((*h, *mi, *s, *ns))?);
                match *ty {
                    Type::TIMESTAMP => t.to_sql(ty, out),
                    _ => t.and_utc().to_sql(ty, out),
                }
            }
            (Value::Timestamp(secs), &Type::TIMESTAMP | &Type::TIMESTAMPTZ) => {
                let t = chrono::DateTime::from_timestamp(*secs, 0)
                    .ok_or_else(|| format!("{secs} is out of range for a timestamp"))?;
                match *ty {
                    Type::TIMESTAMP => t.naive_utc().to_sql(ty, out),
                    _ => t.to_sql(ty, out),
                }
            }
            (Value::RangeInt32(r), &Type::INT4_RANGE) => {
                range_to_sql(r, &Type::INT4, out, |v, t, o| v.to_sql(t, o).map(drop))
                    .map(|_| IsNull::No)
            }
            (Value::RangeInt64(r), &Type::INT8_RANGE) => {
                range_to_sql(r, &Type::INT8, out, |v, t, o| v.to_sql(t, o).map(drop))
                    .map(|_| IsNull::No)
            }
            (Value::RangeDecimal(r), &Type::NUM_RANGE) => {
                range_to_sql(r, &Type::NUMERIC, out, |v, _, o| encode_numeric(v, o))
                    .map(|_| IsNull::No)
            }
            (Value::ArrayInt32(v), &Type::INT4_ARRAY) => v.to_sql(ty, out),
            (Value::ArrayInt64(v), &Type::INT8_ARRAY) => v.to_sql(ty, out),
            (
                Value::ArrayStr(v),
                &Type::TEXT_ARRAY | &Type::VARCHAR_ARRAY | &Type::BPCHAR_ARRAY,
            ) => v.to_sql(ty, out),
            (Value::ArrayDecimal(v), &Type::NUMERIC_ARRAY) => {
                let v: Vec<Option<Param>> = v
                    .iter()
                    .map(|s| s.clone().map(|s| Param(Value::Decimal(s))))
                    .collect();
                v.to_sql(ty, out)
            }
            (
                Value::Interval {
                    micros,
                    days,
                    months,
                },
                &Type::INTERVAL,
            ) => {
                out.extend_from_slice(&micros.to_be_bytes());
                out.extend_from_slice(&days.to_be_bytes());
                out.extend_from_slice(&months.to_be_bytes());
                Ok(IsNull::No)
            }
            _ => Err(self.misfit(ty)),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in `to_sql`, with an error naming both types.
        true
    }

    to_sql_checked!();
}
