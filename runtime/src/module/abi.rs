//! Spin's pre-component ABI (wit-bindgen 0.2, "the old canonical ABI"): values crossing
//! between host and a core module's linear memory.
//!
//! Strings are UTF-8 `(ptr, len)`, lists `(ptr, len)` of elements laid out with natural
//! alignment, `option`/`expected`/enum/variant discriminants are one byte with the payload
//! at the next multiple of the payload's alignment. Memory for values the host gives the
//! guest comes from the guest's `canonical_abi_realloc(old_ptr, old_len, align, new_len)`;
//! results wider than one value go through a return area: the caller's pointer (the last
//! parameter) for imports, the returned pointer for exports.
//!
//! Everything read from guest memory is bounds-checked and copied out, so a guest that
//! lies about a pointer or a length gets a trap, never a host panic.

use wasmtime::{AsContext, AsContextMut, Instance, Memory, TypedFunc};

type Result<T> = wasmtime::Result<T>;

/// The `canonical_abi_realloc` export.
pub type Realloc = TypedFunc<(i32, i32, i32, i32), i32>;

/// A guest's memory and allocator.
#[derive(Clone)]
pub struct GuestMemory {
    memory: Memory,
    realloc: Option<Realloc>,
}

fn bad(what: impl std::fmt::Display) -> wasmtime::Error {
    wasmtime::Error::msg(format!("the module broke Spin's ABI: {what}"))
}

impl GuestMemory {
    /// The `memory` and `canonical_abi_realloc` exports of `instance`.
    pub fn of(instance: &Instance, mut store: impl AsContextMut) -> Result<Self> {
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| bad("it exports no `memory`"))?;
        let realloc = instance
            .get_typed_func(&mut store, "canonical_abi_realloc")
            .ok();
        Ok(Self { memory, realloc })
    }

    /// From inside a host function.
    pub fn of_caller<T>(caller: &mut wasmtime::Caller<'_, T>) -> Result<Self> {
        let memory = caller
            .get_export("memory")
            .and_then(|e| e.into_memory())
            .ok_or_else(|| bad("it exports no `memory`"))?;
        let realloc = caller
            .get_export("canonical_abi_realloc")
            .and_then(|e| e.into_func())
            .map(|f| f.typed(&*caller))
            .transpose()?;
        Ok(Self { memory, realloc })
    }

    fn range(&self, store: impl AsContext, ptr: i32, len: usize) -> Result<std::ops::Range<usize>> {
        let start = ptr as u32 as usize;
        let end = start
            .checked_add(len)
            .filter(|&end| end <= self.memory.data_size(&store))
            .ok_or_else(|| bad(format!("{len} bytes at {start:#x} are outside its memory")))?;
        Ok(start..end)
    }

    /// `len` bytes at `ptr`, copied out.
    pub fn bytes(&self, store: impl AsContext, ptr: i32, len: i32) -> Result<Vec<u8>> {
        let range = self.range(&store, ptr, len as u32 as usize)?;
        Ok(self.memory.data(&store)[range].to_vec())
    }

    /// A UTF-8 string.
    pub fn string(&self, store: impl AsContext, ptr: i32, len: i32) -> Result<String> {
        String::from_utf8(self.bytes(store, ptr, len)?)
            .map_err(|_| bad("a string is not valid UTF-8"))
    }

    fn load<const N: usize>(&self, store: impl AsContext, addr: i32) -> Result<[u8; N]> {
        let range = self.range(&store, addr, N)?;
        Ok(self.memory.data(&store)[range]
            .try_into()
            .expect("range has N bytes"))
    }

    /// A byte at `addr`.
    pub fn u8(&self, store: impl AsContext, addr: i32) -> Result<u8> {
        Ok(self.load::<1>(store, addr)?[0])
    }

    /// A little-endian `u16` at `addr`.
    pub fn u16(&self, store: impl AsContext, addr: i32) -> Result<u16> {
        Ok(u16::from_le_bytes(self.load(store, addr)?))
    }

    /// A little-endian `i32` at `addr`.
    pub fn i32(&self, store: impl AsContext, addr: i32) -> Result<i32> {
        Ok(i32::from_le_bytes(self.load(store, addr)?))
    }

    /// The elements of a list of `size`-byte records at `(ptr, len)`, each copied out.
    pub fn records(
        &self,
        store: impl AsContext,
        ptr: i32,
        len: i32,
        size: usize,
    ) -> Result<Vec<Vec<u8>>> {
        let total = (len as u32 as usize)
            .checked_mul(size)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| bad("list too long"))?;
        let raw = self.bytes(&store, ptr, total)?;
        Ok(raw.chunks_exact(size).map(<[u8]>::to_vec).collect())
    }

    /// A `list<string>` at `(ptr, len)`.
    pub fn strings(&self, store: impl AsContext, ptr: i32, len: i32) -> Result<Vec<String>> {
        self.records(&store, ptr, len, 8)?
            .iter()
            .map(|e| self.string(&store, word(e, 0), word(e, 4)))
            .collect()
    }

    /// A `list<tuple<string, string>>` at `(ptr, len)`.
    pub fn string_pairs(
        &self,
        store: impl AsContext,
        ptr: i32,
        len: i32,
    ) -> Result<Vec<(String, String)>> {
        self.records(&store, ptr, len, 16)?
            .iter()
            .map(|e| {
                Ok((
                    self.string(&store, word(e, 0), word(e, 4))?,
                    self.string(&store, word(e, 8), word(e, 12))?,
                ))
            })
            .collect()
    }

    /// Write `bytes` at `addr`.
    pub fn write(&self, mut store: impl AsContextMut, addr: i32, bytes: &[u8]) -> Result<()> {
        let range = self.range(&store, addr, bytes.len())?;
        self.memory.data_mut(&mut store)[range].copy_from_slice(bytes);
        Ok(())
    }

    /// Allocate `size` bytes aligned to `align` with the guest's allocator (also for size 0:
    /// wit-bindgen 0.2 guests expect a real, aligned pointer even for empty lists).
    pub async fn alloc<S>(&self, mut store: S, align: u32, size: usize) -> Result<i32>
    where
        S: AsContextMut,
        S::Data: Send,
    {
        let realloc = self
            .realloc
            .as_ref()
            .ok_or_else(|| bad("it exports no `canonical_abi_realloc`"))?;
        let size = i32::try_from(size).map_err(|_| bad("a value is larger than 2 GiB"))?;
        let ptr = realloc
            .call_async(&mut store, (0, 0, align as i32, size))
            .await?;
        self.range(&store, ptr, size as usize)?;
        Ok(ptr)
    }

    /// Copy `bytes` into a new guest allocation: its `(ptr, len)`.
    pub async fn put<S>(&self, mut store: S, align: u32, bytes: &[u8]) -> Result<(i32, i32)>
    where
        S: AsContextMut,
        S::Data: Send,
    {
        let ptr = self.alloc(&mut store, align, bytes.len()).await?;
        self.write(&mut store, ptr, bytes)?;
        Ok((ptr, bytes.len() as i32))
    }

    /// A `list<string>` in guest memory: its `(ptr, len)`.
    pub async fn put_strings<S>(&self, mut store: S, items: &[String]) -> Result<(i32, i32)>
    where
        S: AsContextMut,
        S::Data: Send,
    {
        let mut table = Vec::with_capacity(items.len() * 8);
        for s in items {
            let (p, l) = self.put(&mut store, 1, s.as_bytes()).await?;
            table.extend_from_slice(&p.to_le_bytes());
            table.extend_from_slice(&l.to_le_bytes());
        }
        let (ptr, _) = self.put(&mut store, 4, &table).await?;
        Ok((ptr, items.len() as i32))
    }

    /// A list of variants (16-byte elements, the payload at offset 8) in guest memory: its
    /// `(ptr, len)`.
    pub async fn put_variants<S>(&self, mut store: S, items: Vec<Variant>) -> Result<(i32, i32)>
    where
        S: AsContextMut,
        S::Data: Send,
    {
        let mut table = Vec::with_capacity(items.len() * 16);
        for item in &items {
            let (tag, payload) = match item {
                Variant::Scalar(tag, payload) => (*tag, *payload),
                Variant::Bytes(tag, bytes) => {
                    let (p, l) = self.put(&mut store, 1, bytes).await?;
                    let mut payload = [0; 8];
                    payload[..4].copy_from_slice(&p.to_le_bytes());
                    payload[4..].copy_from_slice(&l.to_le_bytes());
                    (*tag, payload)
                }
            };
            table.extend_from_slice(&[tag, 0, 0, 0, 0, 0, 0, 0]);
            table.extend_from_slice(&payload);
        }
        let (ptr, _) = self.put(&mut store, 8, &table).await?;
        Ok((ptr, items.len() as i32))
    }

    /// A list of `(ptr, len)` pairs (lists already in guest memory) in guest memory: its
    /// `(ptr, len)`.
    pub async fn put_pairs<S>(&self, store: S, pairs: &[(i32, i32)]) -> Result<(i32, i32)>
    where
        S: AsContextMut,
        S::Data: Send,
    {
        let table: Vec<u8> = pairs
            .iter()
            .flat_map(|(p, l)| p.to_le_bytes().into_iter().chain(l.to_le_bytes()))
            .collect();
        let (ptr, _) = self.put(store, 4, &table).await?;
        Ok((ptr, pairs.len() as i32))
    }

    /// A `list<tuple<string, string>>` in guest memory: its `(ptr, len)`.
    pub async fn put_string_pairs<S>(
        &self,
        mut store: S,
        pairs: &[(String, String)],
    ) -> Result<(i32, i32)>
    where
        S: AsContextMut,
        S::Data: Send,
    {
        let mut table = Vec::with_capacity(pairs.len() * 16);
        for (k, v) in pairs {
            for s in [k, v] {
                let (p, l) = self.put(&mut store, 1, s.as_bytes()).await?;
                table.extend_from_slice(&p.to_le_bytes());
                table.extend_from_slice(&l.to_le_bytes());
            }
        }
        let (ptr, _) = self.put(&mut store, 4, &table).await?;
        Ok((ptr, pairs.len() as i32))
    }
}

/// An element of a list of variants whose payloads fit in 8 bytes (every value type of
/// Spin's database interfaces): 16 bytes, the case's number at 0 and the payload at 8.
#[derive(Debug, Clone, PartialEq)]
pub enum Variant {
    /// A case with no payload or a scalar one, little-endian, zero-padded to 8 bytes.
    Scalar(u8, [u8; 8]),
    /// A case whose payload is a string or a `list<u8>`.
    Bytes(u8, Vec<u8>),
}

impl Variant {
    /// A case with the scalar payload `le` (little-endian, at most 8 bytes).
    pub fn scalar(tag: u8, le: &[u8]) -> Self {
        let mut payload = [0; 8];
        payload[..le.len()].copy_from_slice(le);
        Self::Scalar(tag, payload)
    }

    /// A case with no payload.
    pub fn empty(tag: u8) -> Self {
        Self::Scalar(tag, [0; 8])
    }
}

/// The little-endian `i32` at `offset` of a record copied out of guest memory.
pub fn word(record: &[u8], offset: usize) -> i32 {
    i32::from_le_bytes(record[offset..offset + 4].try_into().expect("4 bytes"))
}

/// The little-endian 8 bytes at `offset` of a record copied out of guest memory.
pub fn dword(record: &[u8], offset: usize) -> [u8; 8] {
    record[offset..offset + 8].try_into().expect("8 bytes")
}

/// A value for a return area: the bytes to write at each offset.
#[derive(Debug, Default)]
pub struct ReturnArea {
    writes: Vec<(i32, Vec<u8>)>,
}

impl ReturnArea {
    /// A byte at `offset`.
    pub fn u8(mut self, offset: i32, v: u8) -> Self {
        self.writes.push((offset, vec![v]));
        self
    }

    /// A `u16` at `offset`.
    pub fn u16(mut self, offset: i32, v: u16) -> Self {
        self.writes.push((offset, v.to_le_bytes().to_vec()));
        self
    }

    /// An `i32` (a pointer, a length, a `u32`) at `offset`.
    pub fn i32(mut self, offset: i32, v: i32) -> Self {
        self.writes.push((offset, v.to_le_bytes().to_vec()));
        self
    }

    /// A `(ptr, len)` pair at `offset`.
    pub fn pair(self, offset: i32, (ptr, len): (i32, i32)) -> Self {
        self.i32(offset, ptr).i32(offset + 4, len)
    }

    /// Write everything relative to `base`.
    pub fn write_at(
        self,
        mem: &GuestMemory,
        mut store: impl AsContextMut,
        base: i32,
    ) -> Result<()> {
        for (offset, bytes) in self.writes {
            let addr = base
                .checked_add(offset)
                .ok_or_else(|| bad("return area outside its memory"))?;
            mem.write(&mut store, addr, &bytes)?;
        }
        Ok(())
    }
}
