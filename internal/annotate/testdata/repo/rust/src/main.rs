fn main() {
    let answer: u32 = "forty-two";
    println!("{}", answr);
}
