//! Output tables: typed rows ⇄ one polars frame ⇄ CSV and Parquet.
//!
//! A pipeline's row type is a plain struct that derives `Serialize` and `Deserialize` and
//! implements [`TableRow`] (its columns in order, with their types). [`frame`] turns rows into
//! one [`DataFrame`]; [`write_table`] writes that frame twice, as `NAME.csv` and
//! `NAME.parquet`, through [`crate::output::write_atomic`]; [`read_rows`] reads a Parquet table
//! back into rows (what `merge` does with shards). Non-finite floats become nulls (an empty
//! CSV cell), and nulls read back as NaN (or `None` for `Option` fields): undefined is never
//! written as a number.
//!
//! CSV floats are written positionally with Rust's shortest round-trip formatting (`0.0001`,
//! not `1e-4`), strings are quoted only when they hold a comma, quote or newline.

use std::path::Path;

use polars::prelude::*;
use serde::Serialize;
use serde::de::{self, DeserializeOwned, IntoDeserializer as _, Visitor};
use serde::ser::{self, Impossible};

use crate::error::{Error, Result};

/// The type of one output column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// Unsigned integer (`u64`): counts, indices.
    UInt,
    /// Signed integer (`i64`).
    Int,
    /// Float (`f64`); non-finite values are written as null.
    Float,
    /// Text.
    Str,
    /// Boolean.
    Bool,
}

/// A row type of an output table.
///
/// ```
/// use neuropop::pipeline::table::{ColumnType, TableRow, frame};
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Row { region: String, n: usize, mean: f64 }
/// impl TableRow for Row {
///     const COLUMNS: &'static [(&'static str, ColumnType)] =
///         &[("region", ColumnType::Str), ("n", ColumnType::UInt), ("mean", ColumnType::Float)];
/// }
/// let df = frame(&[Row { region: "VISp".into(), n: 3, mean: f64::NAN }]).unwrap();
/// assert_eq!(df.shape(), (1, 3));
/// assert_eq!(df.column("mean").unwrap().null_count(), 1); // NaN is written as null
/// ```
pub trait TableRow: Serialize + DeserializeOwned {
    /// Column names, in output order, with their types. They must be the struct's field names
    /// in declaration order ([`frame`] checks).
    const COLUMNS: &'static [(&'static str, ColumnType)];
}

/// One value of a row.
#[derive(Clone, Debug, PartialEq)]
enum Cell {
    Null,
    U(u64),
    I(i64),
    F(f64),
    S(String),
    B(bool),
}

/// The rows as one frame with the row type's columns.
///
/// # Errors
/// [`Error::Invalid`] if a row's fields do not match [`TableRow::COLUMNS`] or a value does not
/// fit its column type; [`Error::Table`] from polars.
pub fn frame<R: TableRow>(rows: &[R]) -> Result<DataFrame> {
    let cols = R::COLUMNS;
    let mut cells: Vec<Vec<Cell>> = vec![Vec::with_capacity(rows.len()); cols.len()];
    for row in rows {
        let fields = row.serialize(RowSerializer)?;
        if fields.len() != cols.len() || fields.iter().zip(cols).any(|(f, c)| f.0 != c.0) {
            return Err(Error::invalid(
                "table row fields",
                format!("{:?}", cols.iter().map(|c| c.0).collect::<Vec<_>>()),
                format!("{:?}", fields.iter().map(|f| f.0).collect::<Vec<_>>()),
            ));
        }
        for (k, (_, cell)) in fields.into_iter().enumerate() {
            cells[k].push(cell);
        }
    }
    let columns = cols
        .iter()
        .zip(cells)
        .map(|(&(name, ty), values)| column(name, ty, values))
        .collect::<Result<Vec<_>>>()?;
    DataFrame::new(rows.len(), columns)
        .map_err(|e| Error::table(format!("{} columns", cols.len()), e))
}

fn column(name: &str, ty: ColumnType, values: Vec<Cell>) -> Result<Column> {
    let bad = |v: &Cell| {
        Error::invalid(
            format!("table column {name}"),
            format!("{ty:?} values"),
            format!("{v:?}"),
        )
    };
    Ok(match ty {
        ColumnType::UInt => {
            let v = values
                .iter()
                .map(|c| match c {
                    Cell::Null => Ok(None),
                    Cell::U(u) => Ok(Some(*u)),
                    Cell::I(i) if *i >= 0 => Ok(Some(*i as u64)),
                    other => Err(bad(other)),
                })
                .collect::<Result<Vec<_>>>()?;
            Column::new(name.into(), v)
        }
        ColumnType::Int => {
            let v = values
                .iter()
                .map(|c| match c {
                    Cell::Null => Ok(None),
                    Cell::I(i) => Ok(Some(*i)),
                    Cell::U(u) => i64::try_from(*u).map(Some).map_err(|_| bad(c)),
                    other => Err(bad(other)),
                })
                .collect::<Result<Vec<_>>>()?;
            Column::new(name.into(), v)
        }
        ColumnType::Float => {
            let v = values
                .iter()
                .map(|c| match c {
                    Cell::Null => Ok(None),
                    Cell::F(x) => Ok(x.is_finite().then_some(*x)),
                    Cell::U(u) => Ok(Some(*u as f64)),
                    Cell::I(i) => Ok(Some(*i as f64)),
                    other => Err(bad(other)),
                })
                .collect::<Result<Vec<_>>>()?;
            Column::new(name.into(), v)
        }
        ColumnType::Str => {
            let v = values
                .into_iter()
                .map(|c| match c {
                    Cell::Null => Ok(None),
                    Cell::S(s) => Ok(Some(s)),
                    other => Err(bad(&other)),
                })
                .collect::<Result<Vec<_>>>()?;
            Column::new(name.into(), v)
        }
        ColumnType::Bool => {
            let v = values
                .iter()
                .map(|c| match c {
                    Cell::Null => Ok(None),
                    Cell::B(b) => Ok(Some(*b)),
                    other => Err(bad(other)),
                })
                .collect::<Result<Vec<_>>>()?;
            Column::new(name.into(), v)
        }
    })
}

/// The frame as CSV text: a header line, `\n` line ends, floats positional, nulls empty.
///
/// # Errors
/// [`Error::Table`] from polars.
///
/// ```
/// use polars::prelude::*;
/// let mut df = df!("x" => [Some(0.0001), None, Some(1.0)], "s" => ["a", "b,c", "d"]).unwrap();
/// let csv = neuropop::pipeline::table::csv_bytes(&mut df).unwrap();
/// assert_eq!(String::from_utf8(csv).unwrap(), "x,s\n0.0001,a\n,\"b,c\"\n1,d\n");
/// ```
pub fn csv_bytes(df: &mut DataFrame) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .include_header(true)
        .with_float_scientific(Some(false))
        .finish(df)
        .map_err(|e| Error::table("CSV writer", e))?;
    Ok(buf)
}

/// The frame as Parquet bytes.
///
/// # Errors
/// [`Error::Table`] from polars.
pub fn parquet_bytes(df: &mut DataFrame) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .finish(df)
        .map_err(|e| Error::table("Parquet writer", e))?;
    Ok(buf)
}

/// Writes `rows` as `dir/NAME.csv` and `dir/NAME.parquet` (one frame, two writers; each file
/// written atomically).
///
/// # Errors
/// As [`frame`]; [`Error::Io`] naming the file that could not be written.
///
/// ```
/// use neuropop::pipeline::table::{ColumnType, TableRow, write_table, read_rows};
/// #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct Row { session: usize, rho: f64 }
/// impl TableRow for Row {
///     const COLUMNS: &'static [(&'static str, ColumnType)] =
///         &[("session", ColumnType::UInt), ("rho", ColumnType::Float)];
/// }
/// let dir = tempfile::tempdir().unwrap();
/// write_table(dir.path(), "t", &[Row { session: 2, rho: 0.5 }]).unwrap();
/// assert_eq!(std::fs::read_to_string(dir.path().join("t.csv")).unwrap(), "session,rho\n2,0.5\n");
/// let back: Vec<Row> = read_rows(&dir.path().join("t.parquet")).unwrap();
/// assert_eq!(back, vec![Row { session: 2, rho: 0.5 }]);
/// ```
pub fn write_table<R: TableRow>(dir: &Path, name: &str, rows: &[R]) -> Result<()> {
    let mut df = frame(rows)?;
    write_frame(dir, name, &mut df)
}

/// Writes a frame as `dir/NAME.csv` and `dir/NAME.parquet`.
///
/// # Errors
/// [`Error::Table`] from polars; [`Error::Io`] naming the file.
pub fn write_frame(dir: &Path, name: &str, df: &mut DataFrame) -> Result<()> {
    let csv = csv_bytes(df)
        .map_err(|e| Error::invalid(format!("{name}.csv"), "a table", e.to_string()))?;
    crate::output::write_atomic(dir, &format!("{name}.csv"), &csv)?;
    let pq = parquet_bytes(df)
        .map_err(|e| Error::invalid(format!("{name}.parquet"), "a table", e.to_string()))?;
    crate::output::write_atomic(dir, &format!("{name}.parquet"), &pq)
}

/// Reads a Parquet file into a frame.
///
/// # Errors
/// [`Error::Io`] or [`Error::Table`] naming the file.
pub fn read_frame(path: &Path) -> Result<DataFrame> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    ParquetReader::new(f)
        .finish()
        .map_err(|e| Error::table(path.display().to_string(), e))
}

/// Reads a table written by [`write_table`] back into rows.
///
/// # Errors
/// As [`read_frame`]; [`Error::Missing`] for an absent column; [`Error::Invalid`] naming the
/// file, row and column of a value that does not fit the row type.
pub fn read_rows<R: TableRow>(path: &Path) -> Result<Vec<R>> {
    rows(&read_frame(path)?, &path.display().to_string())
}

/// The rows of a frame (`source` names it in errors).
///
/// # Errors
/// As [`read_rows`].
pub fn rows<R: TableRow>(df: &DataFrame, source: &str) -> Result<Vec<R>> {
    let cols = R::COLUMNS
        .iter()
        .map(|(name, _)| {
            df.column(name)
                .map_err(|_| Error::missing(source.to_string(), "column", (*name).to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let cells = cols
            .iter()
            .map(|c| {
                c.get(i)
                    .map(|v| cell_of(&v))
                    .map_err(|e| Error::table(source.to_string(), e))
            })
            .collect::<Result<Vec<_>>>()?;
        let row = R::deserialize(RowDeserializer {
            names: R::COLUMNS,
            cells,
        })
        .map_err(|e| Error::invalid(format!("{source} row {i}"), "a table row", e.to_string()))?;
        out.push(row);
    }
    Ok(out)
}

fn cell_of(v: &AnyValue) -> Cell {
    match v {
        AnyValue::Null => Cell::Null,
        AnyValue::Boolean(b) => Cell::B(*b),
        AnyValue::UInt8(x) => Cell::U(u64::from(*x)),
        AnyValue::UInt16(x) => Cell::U(u64::from(*x)),
        AnyValue::UInt32(x) => Cell::U(u64::from(*x)),
        AnyValue::UInt64(x) => Cell::U(*x),
        AnyValue::Int8(x) => Cell::I(i64::from(*x)),
        AnyValue::Int16(x) => Cell::I(i64::from(*x)),
        AnyValue::Int32(x) => Cell::I(i64::from(*x)),
        AnyValue::Int64(x) => Cell::I(*x),
        AnyValue::Float32(x) => Cell::F(f64::from(*x)),
        AnyValue::Float64(x) => Cell::F(*x),
        AnyValue::String(s) => Cell::S((*s).to_string()),
        AnyValue::StringOwned(s) => Cell::S(s.to_string()),
        other => Cell::S(other.to_string()),
    }
}

// ---- serde bridge: a row struct → named cells, and back ----

/// Error of the serde bridge (its message is wrapped into [`Error::Invalid`]).
#[derive(Debug)]
struct BridgeError(String);

impl std::fmt::Display for BridgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for BridgeError {}
impl ser::Error for BridgeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        BridgeError(msg.to_string())
    }
}
impl de::Error for BridgeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        BridgeError(msg.to_string())
    }
}
impl From<BridgeError> for Error {
    fn from(e: BridgeError) -> Error {
        Error::invalid(
            "table row",
            "a struct of numbers, strings and booleans",
            e.0,
        )
    }
}

fn unsupported<T>(what: &str) -> std::result::Result<T, BridgeError> {
    Err(BridgeError(format!("{what} cannot be a table cell")))
}

/// Serialises a struct into its `(field, cell)` pairs.
struct RowSerializer;

struct RowFields(Vec<(&'static str, Cell)>);

impl ser::SerializeStruct for RowFields {
    type Ok = Vec<(&'static str, Cell)>;
    type Error = BridgeError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> std::result::Result<(), BridgeError> {
        self.0.push((key, value.serialize(CellSerializer)?));
        Ok(())
    }
    fn end(self) -> std::result::Result<Self::Ok, BridgeError> {
        Ok(self.0)
    }
}

macro_rules! reject {
    ($($name:ident($($t:ty),*)),* $(,)?) => {
        $(fn $name(self, $(_: $t),*) -> std::result::Result<Self::Ok, BridgeError> {
            unsupported(stringify!($name))
        })*
    };
}

impl ser::Serializer for RowSerializer {
    type Ok = Vec<(&'static str, Cell)>;
    type Error = BridgeError;
    type SerializeSeq = Impossible<Self::Ok, BridgeError>;
    type SerializeTuple = Impossible<Self::Ok, BridgeError>;
    type SerializeTupleStruct = Impossible<Self::Ok, BridgeError>;
    type SerializeTupleVariant = Impossible<Self::Ok, BridgeError>;
    type SerializeMap = Impossible<Self::Ok, BridgeError>;
    type SerializeStruct = RowFields;
    type SerializeStructVariant = Impossible<Self::Ok, BridgeError>;

    fn serialize_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> std::result::Result<RowFields, BridgeError> {
        Ok(RowFields(Vec::with_capacity(len)))
    }
    reject!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );
    fn serialize_some<T: ?Sized + Serialize>(
        self,
        _: &T,
    ) -> std::result::Result<Self::Ok, BridgeError> {
        unsupported("an optional row")
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> std::result::Result<Self::Ok, BridgeError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> std::result::Result<Self::Ok, BridgeError> {
        unsupported("an enum row")
    }
    fn serialize_seq(
        self,
        _: Option<usize>,
    ) -> std::result::Result<Self::SerializeSeq, BridgeError> {
        unsupported("a sequence row")
    }
    fn serialize_tuple(self, _: usize) -> std::result::Result<Self::SerializeTuple, BridgeError> {
        unsupported("a tuple row")
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeTupleStruct, BridgeError> {
        unsupported("a tuple struct row")
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeTupleVariant, BridgeError> {
        unsupported("an enum row")
    }
    fn serialize_map(
        self,
        _: Option<usize>,
    ) -> std::result::Result<Self::SerializeMap, BridgeError> {
        unsupported("a map row")
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeStructVariant, BridgeError> {
        unsupported("an enum row")
    }
}

/// Serialises one field value into a cell.
struct CellSerializer;

impl ser::Serializer for CellSerializer {
    type Ok = Cell;
    type Error = BridgeError;
    type SerializeSeq = Impossible<Cell, BridgeError>;
    type SerializeTuple = Impossible<Cell, BridgeError>;
    type SerializeTupleStruct = Impossible<Cell, BridgeError>;
    type SerializeTupleVariant = Impossible<Cell, BridgeError>;
    type SerializeMap = Impossible<Cell, BridgeError>;
    type SerializeStruct = Impossible<Cell, BridgeError>;
    type SerializeStructVariant = Impossible<Cell, BridgeError>;

    fn serialize_bool(self, v: bool) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::B(v))
    }
    fn serialize_i8(self, v: i8) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::I(v.into()))
    }
    fn serialize_i16(self, v: i16) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::I(v.into()))
    }
    fn serialize_i32(self, v: i32) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::I(v.into()))
    }
    fn serialize_i64(self, v: i64) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::I(v))
    }
    fn serialize_u8(self, v: u8) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::U(v.into()))
    }
    fn serialize_u16(self, v: u16) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::U(v.into()))
    }
    fn serialize_u32(self, v: u32) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::U(v.into()))
    }
    fn serialize_u64(self, v: u64) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::U(v))
    }
    fn serialize_f32(self, v: f32) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::F(v.into()))
    }
    fn serialize_f64(self, v: f64) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::F(v))
    }
    fn serialize_char(self, v: char) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::S(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::S(v.to_string()))
    }
    fn serialize_bytes(self, _: &[u8]) -> std::result::Result<Cell, BridgeError> {
        unsupported("bytes")
    }
    fn serialize_none(self) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(
        self,
        v: &T,
    ) -> std::result::Result<Cell, BridgeError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> std::result::Result<Cell, BridgeError> {
        Ok(Cell::S(variant.to_string()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> std::result::Result<Cell, BridgeError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> std::result::Result<Cell, BridgeError> {
        unsupported("an enum with data")
    }
    fn serialize_seq(
        self,
        _: Option<usize>,
    ) -> std::result::Result<Self::SerializeSeq, BridgeError> {
        unsupported("a sequence")
    }
    fn serialize_tuple(self, _: usize) -> std::result::Result<Self::SerializeTuple, BridgeError> {
        unsupported("a tuple")
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeTupleStruct, BridgeError> {
        unsupported("a tuple struct")
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeTupleVariant, BridgeError> {
        unsupported("an enum with data")
    }
    fn serialize_map(
        self,
        _: Option<usize>,
    ) -> std::result::Result<Self::SerializeMap, BridgeError> {
        unsupported("a map")
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeStruct, BridgeError> {
        unsupported("a nested struct")
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeStructVariant, BridgeError> {
        unsupported("an enum with data")
    }
}

/// Deserialises a struct from its cells (in [`TableRow::COLUMNS`] order).
struct RowDeserializer {
    names: &'static [(&'static str, ColumnType)],
    cells: Vec<Cell>,
}

impl<'de> de::Deserializer<'de> for RowDeserializer {
    type Error = BridgeError;
    fn deserialize_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, BridgeError> {
        let pairs = self
            .names
            .iter()
            .map(|(n, _)| *n)
            .zip(self.cells.into_iter().map(CellDeserializer));
        visitor.visit_map(de::value::MapDeserializer::new(pairs))
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// One cell as a serde value: nulls become NaN for `f64` fields and `None` for options.
struct CellDeserializer(Cell);

impl<'de> de::IntoDeserializer<'de, BridgeError> for CellDeserializer {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for CellDeserializer {
    type Error = BridgeError;
    fn deserialize_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, BridgeError> {
        match self.0 {
            Cell::Null => visitor.visit_none(),
            Cell::U(u) => visitor.visit_u64(u),
            Cell::I(i) => visitor.visit_i64(i),
            Cell::F(x) => visitor.visit_f64(x),
            Cell::S(s) => visitor.visit_string(s),
            Cell::B(b) => visitor.visit_bool(b),
        }
    }
    fn deserialize_f64<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, BridgeError> {
        match self.0 {
            Cell::Null => visitor.visit_f64(f64::NAN),
            Cell::U(u) => visitor.visit_f64(u as f64),
            Cell::I(i) => visitor.visit_f64(i as f64),
            other => CellDeserializer(other).deserialize_any(visitor),
        }
    }
    fn deserialize_f32<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, BridgeError> {
        self.deserialize_f64(visitor)
    }
    fn deserialize_option<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, BridgeError> {
        match self.0 {
            Cell::Null => visitor.visit_none(),
            other => visitor.visit_some(CellDeserializer(other)),
        }
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> std::result::Result<V::Value, BridgeError> {
        match self.0 {
            Cell::S(s) => visitor.visit_enum(s.into_deserializer()),
            other => Err(BridgeError(format!("an enum name, found {other:?}"))),
        }
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Row {
        session: usize,
        area: String,
        value: f64,
        p: Option<f64>,
        significant: bool,
        offset: i64,
    }

    impl TableRow for Row {
        const COLUMNS: &'static [(&'static str, ColumnType)] = &[
            ("session", ColumnType::UInt),
            ("area", ColumnType::Str),
            ("value", ColumnType::Float),
            ("p", ColumnType::Float),
            ("significant", ColumnType::Bool),
            ("offset", ColumnType::Int),
        ];
    }

    fn rows() -> Vec<Row> {
        vec![
            Row {
                session: 0,
                area: "VISp".into(),
                value: 0.1 + 0.2,
                p: None,
                significant: true,
                offset: -3,
            },
            Row {
                session: 12,
                area: "a \"quoted\", area".into(),
                value: f64::NAN,
                p: Some(1e-20),
                significant: false,
                offset: 4,
            },
        ]
    }

    #[test]
    fn csv_is_positional_quoted_and_null_for_undefined() {
        let mut df = frame(&rows()).unwrap();
        let csv = String::from_utf8(csv_bytes(&mut df).unwrap()).unwrap();
        assert_eq!(
            csv,
            "session,area,value,p,significant,offset\n\
             0,VISp,0.30000000000000004,,true,-3\n\
             12,\"a \"\"quoted\"\", area\",,0.00000000000000000001,false,4\n"
        );
    }

    #[test]
    fn parquet_round_trips_rows_with_nan_and_none() {
        let dir = tempfile::tempdir().unwrap();
        write_table(dir.path(), "t", &rows()).unwrap();
        let back: Vec<Row> = read_rows(&dir.path().join("t.parquet")).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0], rows()[0]);
        assert!(back[1].value.is_nan());
        assert_eq!(back[1].p, Some(1e-20));
        assert_eq!(back[1].area, rows()[1].area);
    }

    #[test]
    fn empty_tables_keep_their_header_and_types() {
        let mut df = frame::<Row>(&[]).unwrap();
        assert_eq!(df.height(), 0);
        assert_eq!(df.column("session").unwrap().dtype(), &DataType::UInt64);
        let csv = String::from_utf8(csv_bytes(&mut df).unwrap()).unwrap();
        assert_eq!(csv, "session,area,value,p,significant,offset\n");
    }

    #[test]
    fn mismatched_columns_are_an_error_naming_both() {
        #[derive(Serialize, serde::Deserialize)]
        struct Bad {
            a: f64,
        }
        impl TableRow for Bad {
            const COLUMNS: &'static [(&'static str, ColumnType)] = &[("b", ColumnType::Float)];
        }
        let e = frame(&[Bad { a: 1.0 }]).unwrap_err().to_string();
        assert!(e.contains("\"b\"") && e.contains("\"a\""), "{e}");
    }

    #[test]
    fn a_missing_column_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_table(dir.path(), "t", &rows()).unwrap();
        #[derive(Debug, Serialize, serde::Deserialize)]
        struct Other {
            session: usize,
            missing: f64,
        }
        impl TableRow for Other {
            const COLUMNS: &'static [(&'static str, ColumnType)] = &[
                ("session", ColumnType::UInt),
                ("missing", ColumnType::Float),
            ];
        }
        let e = read_rows::<Other>(&dir.path().join("t.parquet"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing") && e.contains("t.parquet"), "{e}");
    }
}
