//! Packs on the wire: [`send`] makes the pack a fetching client lacks, [`receive`] takes in a
//! pushed (or fetched) pack, verified, in one transaction.

mod compress;
pub mod receive;
pub mod send;

pub use self::receive::{PackError, ReceivedPack, StoredPack, UnpackLimits, index_pack};

#[cfg(test)]
mod tests;
