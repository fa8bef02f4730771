fn main() {
    let crds = shep_operator::api::crds();
    print!("{}", serde_saphyr::to_string_multiple(&crds).unwrap());
}
