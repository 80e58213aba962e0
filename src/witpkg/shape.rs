//! The shape of a package: each type and function of each interface and each
//! world written out structurally (named types by their qualified name), so
//! that two copies of one `ns:name@version` — the published one and one
//! embedded in another package — can be compared. Copies may hold different
//! subsets (an embedding carries only what it uses); only items present in
//! both must agree.

use std::collections::BTreeMap;

use wit_parser::{Function, Handle, PackageId, Resolve, Type, TypeDefKind, TypeId, TypeOwner};

/// `interface.item` (or `world.item`) → its structural description.
pub type Shape = BTreeMap<String, String>;

/// The shape of package `package` in `resolve`.
pub fn package_shape(resolve: &Resolve, package: PackageId) -> Shape {
    let mut shape = Shape::new();
    let pkg = &resolve.packages[package];
    for (iface_name, id) in &pkg.interfaces {
        let iface = &resolve.interfaces[*id];
        for (name, ty) in &iface.types {
            shape.insert(format!("{iface_name}.{name}"), kind(resolve, &resolve.types[*ty].kind));
        }
        for (name, func) in &iface.functions {
            shape.insert(format!("{iface_name}.{name}"), function(resolve, func));
        }
    }
    for (world_name, id) in &pkg.worlds {
        let world = &resolve.worlds[*id];
        let mut items: Vec<String> =
            world.imports.keys().map(|k| format!("import {}", resolve.name_world_key(k))).collect();
        items.extend(world.exports.keys().map(|k| format!("export {}", resolve.name_world_key(k))));
        items.sort();
        shape.insert(format!("world {world_name}"), items.join(", "));
    }
    shape
}

/// The first item present in both shapes that differs: `(item, a, b)`.
pub fn first_difference<'a>(a: &'a Shape, b: &'a Shape) -> Option<(&'a str, &'a str, &'a str)> {
    a.iter().find_map(|(item, left)| match b.get(item) {
        Some(right) if right != left => Some((item.as_str(), left.as_str(), right.as_str())),
        _ => None,
    })
}

fn function(resolve: &Resolve, func: &Function) -> String {
    let params: Vec<String> = func.params.iter().map(|p| format!("{}: {}", p.name, ty(resolve, &p.ty))).collect();
    let result = func.result.as_ref().map(|r| format!(" -> {}", ty(resolve, r))).unwrap_or_default();
    // The kind's name only (`Method`, `Static`, …): its id differs between copies.
    let kind = format!("{:?}", func.kind);
    let kind = kind.split('(').next().unwrap_or_default().to_ascii_lowercase();
    format!("{kind} func({}){result}", params.join(", "))
}

fn ty(resolve: &Resolve, t: &Type) -> String {
    match t {
        Type::Id(id) => type_ref(resolve, *id),
        other => format!("{other:?}").to_ascii_lowercase(),
    }
}

/// A named type by its qualified name; an anonymous one by its structure.
fn type_ref(resolve: &Resolve, id: TypeId) -> String {
    let def = &resolve.types[id];
    match &def.name {
        Some(name) => match def.owner {
            TypeOwner::Interface(i) => match resolve.id_of(i) {
                Some(iface) => format!("{iface}.{name}"),
                None => name.clone(),
            },
            _ => name.clone(),
        },
        None => kind(resolve, &def.kind),
    }
}

fn kind(resolve: &Resolve, k: &TypeDefKind) -> String {
    let t = |x: &Type| ty(resolve, x);
    let opt = |x: &Option<Type>| x.as_ref().map(t).unwrap_or_else(|| "_".into());
    match k {
        TypeDefKind::Record(r) => {
            format!(
                "record {{ {} }}",
                r.fields.iter().map(|f| format!("{}: {}", f.name, t(&f.ty))).collect::<Vec<_>>().join(", ")
            )
        }
        TypeDefKind::Resource => "resource".into(),
        TypeDefKind::Handle(Handle::Own(id)) => format!("own<{}>", type_ref(resolve, *id)),
        TypeDefKind::Handle(Handle::Borrow(id)) => format!("borrow<{}>", type_ref(resolve, *id)),
        TypeDefKind::Flags(f) => {
            format!("flags {{ {} }}", f.flags.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", "))
        }
        TypeDefKind::Tuple(tu) => format!("tuple<{}>", tu.types.iter().map(t).collect::<Vec<_>>().join(", ")),
        TypeDefKind::Variant(v) => format!(
            "variant {{ {} }}",
            v.cases.iter().map(|c| format!("{}({})", c.name, opt(&c.ty))).collect::<Vec<_>>().join(", ")
        ),
        TypeDefKind::Enum(e) => {
            format!("enum {{ {} }}", e.cases.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "))
        }
        TypeDefKind::Option(x) => format!("option<{}>", t(x)),
        TypeDefKind::Result(r) => format!("result<{}, {}>", opt(&r.ok), opt(&r.err)),
        TypeDefKind::List(x) => format!("list<{}>", t(x)),
        TypeDefKind::Map(a, b) => format!("map<{}, {}>", t(a), t(b)),
        TypeDefKind::FixedLengthList(x, n) => format!("list<{}, {n}>", t(x)),
        TypeDefKind::Future(x) => format!("future<{}>", opt(x)),
        TypeDefKind::Stream(x) => format!("stream<{}>", opt(x)),
        TypeDefKind::Type(x) => format!("type {}", t(x)),
        TypeDefKind::Unknown => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_of(wit: &str) -> Shape {
        let mut resolve = Resolve::default();
        let id = resolve.push_str("test.wit", wit).unwrap();
        package_shape(&resolve, id)
    }

    #[test]
    fn equal_packages_have_equal_shapes_and_changes_show() {
        let a = shape_of("package a:b@1.0.0; interface t { record p { x: s32 } f: func(p: p) -> string; }");
        let b = shape_of("package a:b@1.0.0; interface t { record p { x: s32 } f: func(p: p) -> string; }");
        assert_eq!(a, b);
        let c = shape_of("package a:b@1.0.0; interface t { record p { x: s64 } f: func(p: p) -> string; }");
        let (item, left, right) = first_difference(&a, &c).unwrap();
        assert_eq!(item, "t.p");
        assert_eq!(left, "record { x: s32 }");
        assert_eq!(right, "record { x: s64 }");
        // A subset agrees with the whole.
        let subset = shape_of("package a:b@1.0.0; interface t { record p { x: s32 } }");
        assert_eq!(first_difference(&subset, &a), None);
    }
}
