//! `switchboard-bench`: load generator and benchmark runner. Client and server run as
//! separate processes; every figure is printed beside its goal.

mod peers;
mod target;

fn main() {}
