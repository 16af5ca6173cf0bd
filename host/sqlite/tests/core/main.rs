//! The parts of qntx-core that read and write the store, run on the SQLite backend (qntx-core
//! itself depends on no backend).

mod attempt_io;
mod feed;
mod watch;
