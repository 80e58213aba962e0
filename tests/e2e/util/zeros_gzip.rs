//! A gzip stream of some leading bytes followed by gigabytes of zeros, written straight to a
//! file without ever holding the zeros: one fixed-Huffman deflate block (RFC 1951) whose
//! leading bytes are literals and whose zeros are 258-byte matches at distance 1, about 13
//! bits per 258 zeros, and a gzip trailer (RFC 1952) whose CRC-32 over the zeros is computed
//! by squaring the "one more zero byte" operator rather than byte by byte.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Write to `path` the gzip of `prefix` followed by `zeros` zero bytes. `prefix` must end in
/// a zero byte (a tar header does), which the first match repeats.
pub fn write_zeros_gzip(path: &Path, prefix: &[u8], zeros: u64) -> io::Result<()> {
    assert_eq!(prefix.last(), Some(&0), "the prefix ends in a zero byte");
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
    let mut bits = Bits { out, acc: 0, count: 0 };
    bits.put(1, 1)?; // BFINAL
    bits.put(1, 2)?; // BTYPE 01: fixed Huffman codes
    for &byte in prefix {
        bits.literal(byte)?;
    }
    for _ in 0..zeros / 258 {
        bits.huffman(0b1100_0101, 8)?; // length code 285: 258 bytes
        bits.huffman(0, 5)?; // distance code 0: 1 byte back
    }
    for _ in 0..zeros % 258 {
        bits.literal(0)?;
    }
    bits.huffman(0, 7)?; // end of block (256)
    let mut out = bits.finish()?;
    let crc = !zeros_crc(crc_update(!0, prefix), zeros);
    let total = prefix.len() as u64 + zeros;
    out.write_all(&crc.to_le_bytes())?;
    out.write_all(&(total as u32).to_le_bytes())?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// A deflate bit stream: fields least significant bit first, Huffman codes most significant first.
struct Bits<W: Write> {
    out: W,
    acc: u64,
    count: u32,
}

impl<W: Write> Bits<W> {
    fn put(&mut self, value: u64, count: u32) -> io::Result<()> {
        self.acc |= value << self.count;
        self.count += count;
        while self.count >= 8 {
            self.out.write_all(&[self.acc as u8])?;
            self.acc >>= 8;
            self.count -= 8;
        }
        Ok(())
    }

    fn huffman(&mut self, code: u32, len: u32) -> io::Result<()> {
        let reversed = code.reverse_bits() >> (32 - len);
        self.put(u64::from(reversed), len)
    }

    fn literal(&mut self, byte: u8) -> io::Result<()> {
        match byte {
            0..=143 => self.huffman(0x30 + u32::from(byte), 8),
            _ => self.huffman(0x190 + u32::from(byte - 144), 9),
        }
    }

    fn finish(mut self) -> io::Result<W> {
        if self.count > 0 {
            self.out.write_all(&[self.acc as u8])?;
        }
        Ok(self.out)
    }
}

const POLY: u32 = 0xedb8_8320;

/// One step of the (reflected) CRC-32 register for a zero byte's 8 bits.
fn zero_byte(mut state: u32) -> u32 {
    for _ in 0..8 {
        state = if state & 1 == 1 { (state >> 1) ^ POLY } else { state >> 1 };
    }
    state
}

/// The CRC-32 register (not inverted) after `bytes`.
fn crc_update(mut state: u32, bytes: &[u8]) -> u32 {
    for &byte in bytes {
        state = zero_byte(state ^ u32::from(byte));
    }
    state
}

/// The register after `n` zero bytes: [`zero_byte`] is linear over GF(2), so it is a 32×32
/// bit matrix (column `i` = the image of bit `i`), raised to the `n`th power by squaring.
fn zeros_crc(mut state: u32, mut n: u64) -> u32 {
    fn apply(matrix: &[u32; 32], vector: u32) -> u32 {
        (0..32).filter(|i| vector >> i & 1 == 1).fold(0, |acc, i| acc ^ matrix[i])
    }
    let mut power: [u32; 32] = std::array::from_fn(|i| zero_byte(1 << i));
    while n > 0 {
        if n & 1 == 1 {
            state = apply(&power, state);
        }
        power = std::array::from_fn(|i| apply(&power, power[i]));
        n >>= 1;
    }
    state
}

#[test]
fn the_crc_of_zeros_matches_the_bytewise_one() {
    let prefix = b"ustar\0";
    for n in [0u64, 1, 7, 258, 1000, 4097] {
        let bytewise = crc_update(crc_update(!0, prefix), &vec![0u8; n as usize]);
        assert_eq!(zeros_crc(crc_update(!0, prefix), n), bytewise, "{n} zeros");
    }
    // The check value of CRC-32: "123456789" → cbf43926.
    assert_eq!(!crc_update(!0, b"123456789"), 0xcbf4_3926);
}
