//! Bindings generated from `wit/world.wit` (world `wasmship:packager/packager`).
//! Only `http::wasi`, `terminal`, `fsutil` (preopens) and the exports use them.

wit_bindgen::generate!({
    world: "packager",
    path: "wit",
    generate_all,
});
