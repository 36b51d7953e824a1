package main

import "fmt"

func main() { fmt.Println("sigharness cross-check sample") }
