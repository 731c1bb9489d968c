-- Reserved: 0016 belongs to a branch not merged here yet (checks). This placeholder keeps the
-- numbers contiguous on the events branch; drop it when that branch's 0016 lands.
SELECT 1;
