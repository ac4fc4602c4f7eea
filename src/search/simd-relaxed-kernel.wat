;; int8 scans with relaxed SIMD (i32x4.relaxed_dot_i8x16_i7x16_add_s), compiled by `npm run build:wasm` into
;; simd-relaxed-kernel-bytes.ts. A separate module so engines without relaxed SIMD still load simd-kernel.wat; it
;; shares that module's memory. The instruction is deterministic only when its second operand is in [0, 127], so a
;; query q (codes in [-127, 127]) is stored as two 7-bit halves p = max(q, 0) and m = max(-q, 0): dot(x, q) =
;; dot(x, p) - dot(x, m) exactly, the same integers as the other kernels (pair sums <= 2 * 127 * 127 fit i16).
(module
  (import "env" "memory" (memory 1 65536))

  ;; out[i] = exact integer dot(row i at `rows`, query) for n rows of `dim` int8; p at q, m at q + dim.
  (func (export "dot_rows_i8") (param $q i32) (param $rows i32) (param $dim i32) (param $n i32) (param $out i32)
    (local $r i32) (local $p i32) (local $j i32) (local $m i32) (local $x v128) (local $ap v128) (local $am v128)
    (local.set $p (local.get $rows))
    (local.set $m (i32.add (local.get $q) (local.get $dim)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $ap (v128.const i32x4 0 0 0 0))
        (local.set $am (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $dim)))
            (local.set $x (v128.load (i32.add (local.get $p) (local.get $j))))
            (local.set $ap (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (i32.add (local.get $q) (local.get $j))) (local.get $ap)))
            (local.set $am (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (i32.add (local.get $m) (local.get $j))) (local.get $am)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $jloop)))
        (local.set $ap (i32x4.sub (local.get $ap) (local.get $am)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2)))
          (i32.add (i32.add (i32x4.extract_lane 0 (local.get $ap)) (i32x4.extract_lane 1 (local.get $ap)))
                   (i32.add (i32x4.extract_lane 2 (local.get $ap)) (i32x4.extract_lane 3 (local.get $ap)))))
        (local.set $p (i32.add (local.get $p) (local.get $dim)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; Many-query form, 4 queries per group: out[(r * ng + g) * 4 + k] = dot(row r, query 4g + k); query i's p at
  ;; q + 2 * i * dim and its m right after. Each row chunk is loaded once for the 4 queries.
  (func (export "dot_rows_i8_x4") (param $q i32) (param $ng i32) (param $rows i32) (param $dim i32) (param $n i32) (param $out i32)
    (local $r i32) (local $p i32) (local $j i32) (local $g i32) (local $d2 i32) (local $q0 i32) (local $t i32) (local $o i32)
    (local $x v128)
    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local.set $d2 (i32.shl (local.get $dim) (i32.const 1)))
    (local.set $p (local.get $rows))
    (local.set $o (local.get $out))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $g (i32.const 0))
        (local.set $q0 (local.get $q))
        (block $gdone
          (loop $gloop
            (br_if $gdone (i32.ge_u (local.get $g) (local.get $ng)))
            (local.set $p0 (v128.const i32x4 0 0 0 0))
            (local.set $p1 (v128.const i32x4 0 0 0 0))
            (local.set $p2 (v128.const i32x4 0 0 0 0))
            (local.set $p3 (v128.const i32x4 0 0 0 0))
            (local.set $m0 (v128.const i32x4 0 0 0 0))
            (local.set $m1 (v128.const i32x4 0 0 0 0))
            (local.set $m2 (v128.const i32x4 0 0 0 0))
            (local.set $m3 (v128.const i32x4 0 0 0 0))
            (local.set $j (i32.const 0))
            (block $jdone
              (loop $jloop
                (br_if $jdone (i32.ge_u (local.get $j) (local.get $dim)))
                (local.set $x (v128.load (i32.add (local.get $p) (local.get $j))))
                (local.set $t (i32.add (local.get $q0) (local.get $j)))
                (local.set $p0 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (local.get $t)) (local.get $p0)))
                (local.set $m0 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (i32.add (local.get $t) (local.get $dim))) (local.get $m0)))
                (local.set $t (i32.add (local.get $t) (local.get $d2)))
                (local.set $p1 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (local.get $t)) (local.get $p1)))
                (local.set $m1 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (i32.add (local.get $t) (local.get $dim))) (local.get $m1)))
                (local.set $t (i32.add (local.get $t) (local.get $d2)))
                (local.set $p2 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (local.get $t)) (local.get $p2)))
                (local.set $m2 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (i32.add (local.get $t) (local.get $dim))) (local.get $m2)))
                (local.set $t (i32.add (local.get $t) (local.get $d2)))
                (local.set $p3 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (local.get $t)) (local.get $p3)))
                (local.set $m3 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (i32.add (local.get $t) (local.get $dim))) (local.get $m3)))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $jloop)))
            (v128.store (local.get $o) (call $hsum4 (i32x4.sub (local.get $p0) (local.get $m0)) (i32x4.sub (local.get $p1) (local.get $m1))
                                                   (i32x4.sub (local.get $p2) (local.get $m2)) (i32x4.sub (local.get $p3) (local.get $m3))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (local.set $q0 (i32.add (local.get $q0) (i32.shl (local.get $d2) (i32.const 2))))
            (local.set $g (i32.add (local.get $g) (i32.const 1)))
            (br $gloop)))
        (local.set $p (i32.add (local.get $p) (local.get $dim)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; pick_rows_i8: dot_rows_i8 with the bar test (as simd-kernel.wat's pick_rows_i8, on this layout): out[c] = dot,
  ;; idx[c] = r, kept where dot >= $min; returns c.
  (func (export "pick_rows_i8") (param $q i32) (param $rows i32) (param $dim i32) (param $n i32) (param $out i32) (param $min i32) (param $idx i32) (result i32)
    (local $r i32) (local $p i32) (local $j i32) (local $m i32) (local $c i32) (local $d i32) (local $x v128) (local $ap v128) (local $am v128)
    (local.set $p (local.get $rows))
    (local.set $m (i32.add (local.get $q) (local.get $dim)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $ap (v128.const i32x4 0 0 0 0))
        (local.set $am (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $dim)))
            (local.set $x (v128.load (i32.add (local.get $p) (local.get $j))))
            (local.set $ap (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (i32.add (local.get $q) (local.get $j))) (local.get $ap)))
            (local.set $am (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (i32.add (local.get $m) (local.get $j))) (local.get $am)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $jloop)))
        (local.set $ap (i32x4.sub (local.get $ap) (local.get $am)))
        (local.set $d (i32.add (i32.add (i32x4.extract_lane 0 (local.get $ap)) (i32x4.extract_lane 1 (local.get $ap)))
                               (i32.add (i32x4.extract_lane 2 (local.get $ap)) (i32x4.extract_lane 3 (local.get $ap)))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (local.get $d))
        (i32.store (i32.add (local.get $idx) (i32.shl (local.get $c) (i32.const 2))) (local.get $r))
        (local.set $c (i32.add (local.get $c) (i32.ge_s (local.get $d) (local.get $min))))
        (local.set $p (i32.add (local.get $p) (local.get $dim)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
    (local.get $c))

  ;; pick_rows_i8_x4: dot_rows_i8_x4 with the bar test (as simd-kernel.wat's): out[c] = the group's 4 dots, idx[c] =
  ;; r * 4 + g, kept where any reaches its minimum at mins + 16g + 4k; returns c.
  (func (export "pick_rows_i8_x4") (param $q i32) (param $ng i32) (param $rows i32) (param $dim i32) (param $n i32) (param $out i32) (param $mins i32) (param $idx i32) (result i32)
    (local $r i32) (local $p i32) (local $j i32) (local $g i32) (local $d2 i32) (local $q0 i32) (local $t i32) (local $o i32)
    (local $c i32) (local $v v128) (local $x v128)
    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local.set $d2 (i32.shl (local.get $dim) (i32.const 1)))
    (local.set $p (local.get $rows))
        (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $g (i32.const 0))
        (local.set $q0 (local.get $q))
        (block $gdone
          (loop $gloop
            (br_if $gdone (i32.ge_u (local.get $g) (local.get $ng)))
            (local.set $p0 (v128.const i32x4 0 0 0 0))
            (local.set $p1 (v128.const i32x4 0 0 0 0))
            (local.set $p2 (v128.const i32x4 0 0 0 0))
            (local.set $p3 (v128.const i32x4 0 0 0 0))
            (local.set $m0 (v128.const i32x4 0 0 0 0))
            (local.set $m1 (v128.const i32x4 0 0 0 0))
            (local.set $m2 (v128.const i32x4 0 0 0 0))
            (local.set $m3 (v128.const i32x4 0 0 0 0))
            (local.set $j (i32.const 0))
            (block $jdone
              (loop $jloop
                (br_if $jdone (i32.ge_u (local.get $j) (local.get $dim)))
                (local.set $x (v128.load (i32.add (local.get $p) (local.get $j))))
                (local.set $t (i32.add (local.get $q0) (local.get $j)))
                (local.set $p0 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (local.get $t)) (local.get $p0)))
                (local.set $m0 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (i32.add (local.get $t) (local.get $dim))) (local.get $m0)))
                (local.set $t (i32.add (local.get $t) (local.get $d2)))
                (local.set $p1 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (local.get $t)) (local.get $p1)))
                (local.set $m1 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (i32.add (local.get $t) (local.get $dim))) (local.get $m1)))
                (local.set $t (i32.add (local.get $t) (local.get $d2)))
                (local.set $p2 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (local.get $t)) (local.get $p2)))
                (local.set $m2 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (i32.add (local.get $t) (local.get $dim))) (local.get $m2)))
                (local.set $t (i32.add (local.get $t) (local.get $d2)))
                (local.set $p3 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (local.get $t)) (local.get $p3)))
                (local.set $m3 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $x) (v128.load (i32.add (local.get $t) (local.get $dim))) (local.get $m3)))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $jloop)))
            (local.set $v (call $hsum4 (i32x4.sub (local.get $p0) (local.get $m0)) (i32x4.sub (local.get $p1) (local.get $m1))
                                       (i32x4.sub (local.get $p2) (local.get $m2)) (i32x4.sub (local.get $p3) (local.get $m3))))
            (v128.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 4))) (local.get $v))
            (i32.store (i32.add (local.get $idx) (i32.shl (local.get $c) (i32.const 2))) (i32.or (i32.shl (local.get $r) (i32.const 2)) (local.get $g)))
            (local.set $c (i32.add (local.get $c) (v128.any_true (i32x4.ge_s (local.get $v) (v128.load (i32.add (local.get $mins) (i32.shl (local.get $g) (i32.const 4))))))))
            (local.set $q0 (i32.add (local.get $q0) (i32.shl (local.get $d2) (i32.const 2))))
            (local.set $g (i32.add (local.get $g) (i32.const 1)))
            (br $gloop)))
        (local.set $p (i32.add (local.get $p) (local.get $dim)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
    (local.get $c))

  ;; [sum(a), sum(b), sum(c), sum(d)] of four i32x4 accumulators.
  (func $hsum4 (param $a v128) (param $b v128) (param $c v128) (param $d v128) (result v128)
    (local $ab v128) (local $cd v128)
    (local.set $ab (i32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b))
                              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b))))
    (local.set $cd (i32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d))
                              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d))))
    (i32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab) (local.get $cd))
               (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab) (local.get $cd))))
)
