//! Integration tests: each starts the real server on a random port against a real git repository
//! and a real database (a SQLite file, or a fresh PostgreSQL database when TEST_DATABASE_URL is
//! set), and acts as a user would.

mod helpers;

mod access;
mod access_walk;
mod accounts;
mod api;
mod audit;
mod backup;
mod browsing;
mod builds;
mod cli;
mod compare;
mod compiled;
mod console;
mod cwe;
mod exports;
mod history;
mod instances;
mod log;
mod long_files;
mod operations;
mod public_log;
mod release_flow;
mod release_pages;
mod releases;
mod requirements;
mod review;
mod room;
mod sarif;
mod scope;
mod search;
mod second_factor;
mod security;
mod sessions;
mod sign_in;
mod staff;
mod witness;
mod witnessing;
mod working_day;
