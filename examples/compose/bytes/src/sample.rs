//! The component `bytes` publishes, made in memory with `wasm-encoder`:
//!
//! ```wat
//! (component
//!   (core module $m (func (export "answer") (result i32) i32.const 42))
//!   (core instance $i (instantiate $m))
//!   (func $answer (result u32) (canon lift (core func $i "answer")))
//!   (export "answer" (func $answer)))
//! ```

use wasm_encoder::{
    CodeSection, ComponentBuilder, ComponentExportKind, ComponentValType, ExportKind, ExportSection, Function,
    FunctionSection, Module, PrimitiveValType, TypeSection, ValType,
};

/// The component's bytes (the same on every call).
pub fn component() -> Vec<u8> {
    let mut component = ComponentBuilder::default();
    let module = component.core_module(Some("m"), &core_module());
    let instance = component.core_instantiate(Some("i"), module, []);
    let core_answer = component.core_alias_export(None, instance, "answer", ExportKind::Func);
    let (ty, encoder) = component.ty(None);
    let no_params: [(&str, ComponentValType); 0] = [];
    encoder.function().params(no_params).result(Some(ComponentValType::Primitive(PrimitiveValType::U32)));
    let answer = component.lift_func(Some("answer"), core_answer, ty, []);
    component.export("answer", ComponentExportKind::Func, answer, None);
    component.finish()
}

/// `(module (func (export "answer") (result i32) i32.const 42))`
fn core_module() -> Module {
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I32]);
    let mut functions = FunctionSection::new();
    functions.function(0);
    let mut exports = ExportSection::new();
    exports.export("answer", ExportKind::Func, 0);
    let mut body = Function::new([]);
    body.instructions().i32_const(42).end();
    let mut code = CodeSection::new();
    code.function(&body);

    let mut module = Module::new();
    module.section(&types).section(&functions).section(&exports).section(&code);
    module
}
