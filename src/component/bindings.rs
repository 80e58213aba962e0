//! Bindings generated from `wit/world.wit` (world `wasmship:packager/packager`).
//! Only `http::wasi`, `terminal` and the exports use them.

wit_bindgen::generate!({
    world: "packager",
    path: "wit",
    generate_all,
});
