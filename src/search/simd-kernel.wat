;; int8 dot-product scans for CosineIndex, in wasm SIMD128: int8 rows, and f32 rows' int8 shadow. Compiled to
;; simd-kernel-bytes.ts by `npm run build:wasm`. Layout is the caller's: queries, output areas and rows live in this memory.
(module
  (memory (export "memory") 1 65536)

  ;; Sum of `count` f32 values at ptr (count a multiple of 16): one streaming pass, the memory-bandwidth floor.
  (func (export "sum_f32") (param $ptr i32) (param $count i32) (result f32)
    (local $end i32) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $a0 (f32x4.add (local.get $a0) (v128.load (local.get $ptr))))
        (local.set $a1 (f32x4.add (local.get $a1) (v128.load offset=16 (local.get $ptr))))
        (local.set $a2 (f32x4.add (local.get $a2) (v128.load offset=32 (local.get $ptr))))
        (local.set $a3 (f32x4.add (local.get $a3) (v128.load offset=48 (local.get $ptr))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 64)))
        (br $l)))
    (local.set $a0 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
    (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
             (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))

;; shade_rows: the int8 shadow of n f32 rows at $rows (dim a multiple of 16): per row, scale = max|x| / 127 (f32)
  ;; at $scales + 4r and codes nearest(x / scale) (f32 division, so |x - scale * code| <= scale * (1/2 + 2^-16)) at
  ;; $codes + r * dim. Returns the largest row L1 norm, summed in f32 (dim / 4 terms a lane: relative error under (dim / 4 + 2) · 2^-24).
  (func (export "shade_rows") (param $rows i32) (param $n i32) (param $dim i32) (param $codes i32) (param $scales i32) (result f32)
    (local $r i32) (local $j i32) (local $bytes i32) (local $p i32) (local $m v128) (local $l v128) (local $x v128)
    (local $s f32) (local $sv v128) (local $l1 f32) (local $best f32)
    (local.set $bytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $p (local.get $rows))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $m (v128.const i32x4 0 0 0 0))
        (local.set $l (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $mdone
          (loop $mloop
            (br_if $mdone (i32.ge_u (local.get $j) (local.get $bytes)))
            (local.set $x (f32x4.abs (v128.load (i32.add (local.get $p) (local.get $j)))))
            (local.set $m (f32x4.max (local.get $m) (local.get $x)))
            (local.set $l (f32x4.add (local.get $l) (local.get $x)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $mloop)))
        (local.set $s (f32.div (f32.max (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
                                        (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m))))
                               (f32.const 127)))
        (local.set $l1 (f32.add (f32.add (f32x4.extract_lane 0 (local.get $l)) (f32x4.extract_lane 1 (local.get $l)))
                                (f32.add (f32x4.extract_lane 2 (local.get $l)) (f32x4.extract_lane 3 (local.get $l)))))
        (local.set $best (f32.max (local.get $best) (local.get $l1)))
        (f32.store (i32.add (local.get $scales) (i32.shl (local.get $r) (i32.const 2))) (local.get $s))
        (local.set $sv (f32x4.splat (local.get $s)))
        (local.set $j (i32.const 0))
        (block $qdone
          (loop $qloop
            (br_if $qdone (i32.ge_u (local.get $j) (local.get $bytes)))
            (v128.store (i32.add (local.get $codes) (i32.shr_u (local.get $j) (i32.const 2)))
              (i8x16.narrow_i16x8_s
                (i16x8.narrow_i32x4_s
                  (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.div (v128.load (i32.add (local.get $p) (local.get $j))) (local.get $sv))))
                  (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.div (v128.load offset=16 (i32.add (local.get $p) (local.get $j))) (local.get $sv)))))
                (i16x8.narrow_i32x4_s
                  (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.div (v128.load offset=32 (i32.add (local.get $p) (local.get $j))) (local.get $sv))))
                  (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.div (v128.load offset=48 (i32.add (local.get $p) (local.get $j))) (local.get $sv)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 64)))
            (br $qloop)))
        (local.set $codes (i32.add (local.get $codes) (local.get $dim)))
        (local.set $p (i32.add (local.get $p) (local.get $bytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
    (local.get $best))

  ;; out[i] = integer dot(codes of row i at `rows`, query codes at `q`) for n rows of `dim` int8 (dim a multiple of 16).
  ;; |code| <= 127, so each i8 product fits i16 and the i32 sums are exact.
  (func (export "dot_rows_i8") (param $q i32) (param $rows i32) (param $dim i32) (param $n i32) (param $out i32)
    (local $r i32) (local $p i32) (local $j i32) (local $a0 v128) (local $a1 v128) (local $x v128) (local $y v128)
    (local.set $p (local.get $rows))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $dim)))
            (local.set $x (v128.load (i32.add (local.get $p) (local.get $j))))
            (local.set $y (v128.load (i32.add (local.get $q) (local.get $j))))
            (local.set $a0 (i32x4.add (local.get $a0) (i32x4.extadd_pairwise_i16x8_s (i16x8.extmul_low_i8x16_s (local.get $x) (local.get $y)))))
            (local.set $a1 (i32x4.add (local.get $a1) (i32x4.extadd_pairwise_i16x8_s (i16x8.extmul_high_i8x16_s (local.get $x) (local.get $y)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $jloop)))
        (local.set $a0 (i32x4.add (local.get $a0) (local.get $a1)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2)))
          (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a0)) (i32x4.extract_lane 1 (local.get $a0)))
                   (i32.add (i32x4.extract_lane 2 (local.get $a0)) (i32x4.extract_lane 3 (local.get $a0)))))
        (local.set $p (i32.add (local.get $p) (local.get $dim)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; Sum of `count` int8 at ptr (count a multiple of 16): the streaming floor for the int8 scan.
  (func (export "sum_i8") (param $ptr i32) (param $count i32) (result i32)
    (local $end i32) (local $a v128)
    (local.set $end (i32.add (local.get $ptr) (local.get $count)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $a (i32x4.add (local.get $a) (i32x4.extadd_pairwise_i16x8_s (i16x8.extadd_pairwise_i8x16_s (v128.load (local.get $ptr))))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
        (br $l)))
    (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a)) (i32x4.extract_lane 1 (local.get $a)))
             (i32.add (i32x4.extract_lane 2 (local.get $a)) (i32x4.extract_lane 3 (local.get $a)))))

  ;; Many-query int8 scan, 4 queries per group: out[(r * ng + g) * 4 + k] = exact integer dot(row r, query 4g + k).
  ;; Queries are stored sign-extended to i16 (query i at q + i * dim * 2), so each row chunk is widened once and
  ;; i32x4.dot_i16x8_s does 8 multiply-adds per instruction for each of the 4 queries.
  (func (export "dot_rows_i8_x4") (param $q i32) (param $ng i32) (param $rows i32) (param $dim i32) (param $n i32) (param $out i32)
    (local $r i32) (local $p i32) (local $j i32) (local $g i32) (local $d2 i32) (local $q0 i32) (local $t i32) (local $o i32)
    (local $x v128) (local $xl v128) (local $xh v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
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
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $j (i32.const 0))
            (block $jdone
              (loop $jloop
                (br_if $jdone (i32.ge_u (local.get $j) (local.get $dim)))
                (local.set $x (v128.load (i32.add (local.get $p) (local.get $j))))
                (local.set $xl (i16x8.extend_low_i8x16_s (local.get $x)))
                (local.set $xh (i16x8.extend_high_i8x16_s (local.get $x)))
                (local.set $t (i32.add (local.get $q0) (i32.shl (local.get $j) (i32.const 1))))
                (local.set $a0 (i32x4.add (local.get $a0) (i32x4.add (i32x4.dot_i16x8_s (local.get $xl) (v128.load (local.get $t))) (i32x4.dot_i16x8_s (local.get $xh) (v128.load offset=16 (local.get $t))))))
                (local.set $t (i32.add (local.get $t) (local.get $d2)))
                (local.set $a1 (i32x4.add (local.get $a1) (i32x4.add (i32x4.dot_i16x8_s (local.get $xl) (v128.load (local.get $t))) (i32x4.dot_i16x8_s (local.get $xh) (v128.load offset=16 (local.get $t))))))
                (local.set $t (i32.add (local.get $t) (local.get $d2)))
                (local.set $a2 (i32x4.add (local.get $a2) (i32x4.add (i32x4.dot_i16x8_s (local.get $xl) (v128.load (local.get $t))) (i32x4.dot_i16x8_s (local.get $xh) (v128.load offset=16 (local.get $t))))))
                (local.set $t (i32.add (local.get $t) (local.get $d2)))
                (local.set $a3 (i32x4.add (local.get $a3) (i32x4.add (i32x4.dot_i16x8_s (local.get $xl) (v128.load (local.get $t))) (i32x4.dot_i16x8_s (local.get $xh) (v128.load offset=16 (local.get $t))))))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $jloop)))
            (v128.store (local.get $o) (call $hsum4 (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (local.set $q0 (i32.add (local.get $q0) (i32.shl (local.get $d2) (i32.const 2))))
            (local.set $g (i32.add (local.get $g) (i32.const 1)))
            (br $gloop)))
        (local.set $p (i32.add (local.get $p) (local.get $dim)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; The pick_* kernels below are the dot kernels plus the candidate pass's bar test: each writes its results
  ;; compacted, out[c] = score and idx[c] = its row (or row and query), and advances c only where the score reaches
  ;; the caller's minimum, so the JS selection loop touches only rows that can enter the top-k. Returns c.

  ;; int8 single query: out[c] = exact integer dot(row r, q), idx[c] = r, kept where dot * scale[r] >= $bar in f64
  ;; (f64(dot) * f64(f32 scale at $scales + 4r), rounded once: the JS selection's own `dot * scales[row]`, so the
  ;; kernel keeps exactly the rows that test would keep). Rows go in blocks of 4 (the query's two vectors per 16-code
  ;; chunk load once for four rows); a block whose four scores all miss the bar writes nothing; the last n mod 4 rows
  ;; go one at a time. No widening: a chunk's 16 codes read as 8 i16 lanes w = x[2k] + 256 x[2k+1]; w ^ 0x0080 turns
  ;; the low byte into x[2k] + 128 (unsigned), shr_s 8 gives x[2k+1], and with the query stored per chunk as
  ;; QA = q[2k] then QB = q[2k+1] - 256 q[2k] (|QB| <= 32639 fits i16; writeInt8Query's 'simd' pick layout),
  ;; dot(w ^ 0x0080, QA) + dot(w >> 8, QB) = the chunk's exact dot + 128 * the sum of its even q. The i32 at
  ;; q + 2 * dim holds 128 * the sum of every even q, subtracted once per row (i32 lanes wrap; the final dot fits).
  (func (export "pick_rows_i8") (param $q i32) (param $rows i32) (param $dim i32) (param $n i32) (param $out i32) (param $bar f64) (param $idx i32) (param $scales i32) (result i32)
    (local $r i32) (local $p i32) (local $j i32) (local $t i32) (local $c i32) (local $sp i32) (local $d i32) (local $k i32)
    (local $n4 i32) (local $pj i32) (local $d2 i32) (local $d3 i32)
    (local $qa v128) (local $qb v128) (local $w v128) (local $v v128) (local $ab v128) (local $cd v128) (local $corr v128) (local $bv v128) (local $s4 v128) (local $flip v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $flip (v128.const i16x8 128 128 128 128 128 128 128 128))
    (local.set $corr (i32x4.splat (i32.load (i32.add (local.get $q) (i32.shl (local.get $dim) (i32.const 1))))))
    (local.set $bv (f64x2.splat (local.get $bar)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $d2 (i32.shl (local.get $dim) (i32.const 1)))
    (local.set $d3 (i32.add (local.get $d2) (local.get $dim)))
    (local.set $p (local.get $rows))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $r) (local.get $n4)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (local.set $t (local.get $q))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $dim)))
            (local.set $qa (v128.load (local.get $t)))
            (local.set $qb (v128.load offset=16 (local.get $t)))
            (local.set $pj (i32.add (local.get $p) (local.get $j)))
            (local.set $w (v128.xor (v128.load (local.get $pj)) (local.get $flip)))
            (local.set $a0 (i32x4.add (local.get $a0) (i32x4.add (i32x4.dot_i16x8_s (local.get $w) (local.get $qa)) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $w) (i32.const 8)) (local.get $qb)))))
            (local.set $w (v128.xor (v128.load (i32.add (local.get $pj) (local.get $dim))) (local.get $flip)))
            (local.set $a1 (i32x4.add (local.get $a1) (i32x4.add (i32x4.dot_i16x8_s (local.get $w) (local.get $qa)) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $w) (i32.const 8)) (local.get $qb)))))
            (local.set $w (v128.xor (v128.load (i32.add (local.get $pj) (local.get $d2))) (local.get $flip)))
            (local.set $a2 (i32x4.add (local.get $a2) (i32x4.add (i32x4.dot_i16x8_s (local.get $w) (local.get $qa)) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $w) (i32.const 8)) (local.get $qb)))))
            (local.set $w (v128.xor (v128.load (i32.add (local.get $pj) (local.get $d3))) (local.get $flip)))
            (local.set $a3 (i32x4.add (local.get $a3) (i32x4.add (i32x4.dot_i16x8_s (local.get $w) (local.get $qa)) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $w) (i32.const 8)) (local.get $qb)))))
            (local.set $t (i32.add (local.get $t) (i32.const 32)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $jloop)))
        (local.set $ab (i32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1)) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1))))
        (local.set $cd (i32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3)) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3))))
        (local.set $v (i32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab) (local.get $cd)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab) (local.get $cd))))
        (local.set $v (i32x4.sub (local.get $v) (local.get $corr)))
        (local.set $sp (i32.add (local.get $scales) (i32.shl (local.get $r) (i32.const 2))))
        (local.set $s4 (v128.load (local.get $sp)))
        (if (v128.any_true (v128.or
              (f64x2.ge (f64x2.mul (f64x2.convert_low_i32x4_s (local.get $v)) (f64x2.promote_low_f32x4 (local.get $s4))) (local.get $bv))
              (f64x2.ge (f64x2.mul (f64x2.convert_low_i32x4_s (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))
                                   (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $s4) (local.get $s4))))
                        (local.get $bv))))
          (then
            (local.set $d (i32x4.extract_lane 0 (local.get $v)))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (local.get $d))
            (i32.store (i32.add (local.get $idx) (i32.shl (local.get $c) (i32.const 2))) (local.get $r))
            (local.set $c (i32.add (local.get $c) (f64.ge (f64.mul (f64.convert_i32_s (local.get $d)) (f64.promote_f32 (f32.load offset=0 (local.get $sp)))) (local.get $bar))))
            (local.set $d (i32x4.extract_lane 1 (local.get $v)))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (local.get $d))
            (i32.store (i32.add (local.get $idx) (i32.shl (local.get $c) (i32.const 2))) (i32.add (local.get $r) (i32.const 1)))
            (local.set $c (i32.add (local.get $c) (f64.ge (f64.mul (f64.convert_i32_s (local.get $d)) (f64.promote_f32 (f32.load offset=4 (local.get $sp)))) (local.get $bar))))
            (local.set $d (i32x4.extract_lane 2 (local.get $v)))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (local.get $d))
            (i32.store (i32.add (local.get $idx) (i32.shl (local.get $c) (i32.const 2))) (i32.add (local.get $r) (i32.const 2)))
            (local.set $c (i32.add (local.get $c) (f64.ge (f64.mul (f64.convert_i32_s (local.get $d)) (f64.promote_f32 (f32.load offset=8 (local.get $sp)))) (local.get $bar))))
            (local.set $d (i32x4.extract_lane 3 (local.get $v)))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (local.get $d))
            (i32.store (i32.add (local.get $idx) (i32.shl (local.get $c) (i32.const 2))) (i32.add (local.get $r) (i32.const 3)))
            (local.set $c (i32.add (local.get $c) (f64.ge (f64.mul (f64.convert_i32_s (local.get $d)) (f64.promote_f32 (f32.load offset=12 (local.get $sp)))) (local.get $bar))))))
        (local.set $p (i32.add (local.get $p) (i32.shl (local.get $dim) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $block)))
    ;; The last n mod 4 rows, one at a time, same sums.
    (block $tdone
      (loop $tail
        (br_if $tdone (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (local.set $t (local.get $q))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $dim)))
            (local.set $w (v128.xor (v128.load (i32.add (local.get $p) (local.get $j))) (local.get $flip)))
            (local.set $a0 (i32x4.add (local.get $a0) (i32x4.add (i32x4.dot_i16x8_s (local.get $w) (v128.load (local.get $t))) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $w) (i32.const 8)) (v128.load offset=16 (local.get $t))))))
            (local.set $t (i32.add (local.get $t) (i32.const 32)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $jloop)))
        (local.set $v (i32x4.sub (call $hsum4 (local.get $a0) (local.get $a0) (local.get $a0) (local.get $a0)) (local.get $corr)))
        (local.set $d (i32x4.extract_lane 0 (local.get $v)))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (local.get $d))
            (i32.store (i32.add (local.get $idx) (i32.shl (local.get $c) (i32.const 2))) (local.get $r))
            (local.set $c (i32.add (local.get $c) (f64.ge (f64.mul (f64.convert_i32_s (local.get $d)) (f64.promote_f32 (f32.load (i32.add (local.get $scales) (i32.shl (local.get $r) (i32.const 2)))))) (local.get $bar))))
        (local.set $p (i32.add (local.get $p) (local.get $dim)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $tail)))
    (local.get $c))

  ;; int8 many queries, 4 per group: out[c] = the 4 exact dots of (row r, group g) as i32x4, idx[c] = r * 4 + g,
  ;; kept where any query k of the group reaches its minimum (the i32 at mins + 16g + 4k). Queries widened to i16 and
  ;; interleaved by 16-code chunk (scan-many.ts writeInt8Batch): group g at q + g * dim * 8, chunk c at + c * 128,
  ;; query k's 16 values at + 32k, so one pointer and static offsets reach all 8 loads of a chunk. Sums inlined (no call).
  (func (export "pick_rows_i8_x4") (param $q i32) (param $ng i32) (param $rows i32) (param $dim i32) (param $n i32) (param $out i32) (param $mins i32) (param $idx i32) (result i32)
    (local $r i32) (local $p i32) (local $j i32) (local $g i32) (local $gs i32) (local $q0 i32) (local $t i32) (local $c i32)
    (local $v v128) (local $ab v128) (local $cd v128) (local $x v128) (local $xl v128) (local $xh v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $gs (i32.shl (local.get $dim) (i32.const 3)))
    (local.set $p (local.get $rows))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $g (i32.const 0))
        (local.set $q0 (local.get $q))
        (block $gdone
          (loop $gloop
            (br_if $gdone (i32.ge_u (local.get $g) (local.get $ng)))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $j (i32.const 0))
            (local.set $t (local.get $q0))
            (block $jdone
              (loop $jloop
                (br_if $jdone (i32.ge_u (local.get $j) (local.get $dim)))
                (local.set $x (v128.load (i32.add (local.get $p) (local.get $j))))
                (local.set $xl (i16x8.extend_low_i8x16_s (local.get $x)))
                (local.set $xh (i16x8.extend_high_i8x16_s (local.get $x)))
                (local.set $a0 (i32x4.add (local.get $a0) (i32x4.add (i32x4.dot_i16x8_s (local.get $xl) (v128.load offset=0 (local.get $t))) (i32x4.dot_i16x8_s (local.get $xh) (v128.load offset=16 (local.get $t))))))
                (local.set $a1 (i32x4.add (local.get $a1) (i32x4.add (i32x4.dot_i16x8_s (local.get $xl) (v128.load offset=32 (local.get $t))) (i32x4.dot_i16x8_s (local.get $xh) (v128.load offset=48 (local.get $t))))))
                (local.set $a2 (i32x4.add (local.get $a2) (i32x4.add (i32x4.dot_i16x8_s (local.get $xl) (v128.load offset=64 (local.get $t))) (i32x4.dot_i16x8_s (local.get $xh) (v128.load offset=80 (local.get $t))))))
                (local.set $a3 (i32x4.add (local.get $a3) (i32x4.add (i32x4.dot_i16x8_s (local.get $xl) (v128.load offset=96 (local.get $t))) (i32x4.dot_i16x8_s (local.get $xh) (v128.load offset=112 (local.get $t))))))
                (local.set $t (i32.add (local.get $t) (i32.const 128)))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $jloop)))
            (local.set $ab (i32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1)) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1))))
            (local.set $cd (i32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3)) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3))))
            (local.set $v (i32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab) (local.get $cd))
                                     (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab) (local.get $cd))))
            (v128.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 4))) (local.get $v))
            (i32.store (i32.add (local.get $idx) (i32.shl (local.get $c) (i32.const 2))) (i32.or (i32.shl (local.get $r) (i32.const 2)) (local.get $g)))
            (local.set $c (i32.add (local.get $c) (v128.any_true (i32x4.ge_s (local.get $v) (v128.load (i32.add (local.get $mins) (i32.shl (local.get $g) (i32.const 4))))))))
            (local.set $q0 (i32.add (local.get $q0) (local.get $gs)))
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
